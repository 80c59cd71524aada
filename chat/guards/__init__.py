"""Guards around the model: input sanitising, injection screening, secret
redaction and the streaming output filter."""
