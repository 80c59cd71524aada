// Rating a reply: the thumbs (drawn by render.js's feedbackButtons) are toggles,
// aria-pressed shows the rating given, pressing the pressed one takes it back.
// After a rating, a small form offers to say why.
import * as api from "./api.js";
import { gettext } from "./i18n.js";
import { el } from "./render.js";

function setPressed(group, rating) {
  for (const button of group.querySelectorAll(".feedback-thumb")) {
    button.setAttribute("aria-pressed", String(button.dataset.rating === rating));
  }
}

function commentForm(group, messageId, rating, { announce, onError }) {
  const form = el("form", "feedback-comment");
  const id = `feedback-comment-${messageId}`;
  const label = el("label", "visually-hidden", gettext("Why? (optional)"));
  label.htmlFor = id;
  const input = el("input", "feedback-comment-input");
  input.id = id;
  input.type = "text";
  input.maxLength = 2000;
  input.placeholder = gettext("Why? (optional)");
  input.value = group.dataset.comment || "";
  const send = el("button", "btn btn-secondary btn-tiny", gettext("Send"));
  send.type = "submit";
  form.append(label, input, send);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const data = await api.rateReply(messageId, rating, input.value);
      group.dataset.comment = data.feedback?.comment || "";
      form.remove();
      announce(gettext("Thanks for the feedback."));
    } catch (error) {
      onError(error);
    }
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      form.remove();
    }
  });
  return form;
}

/** Rate on a thumb's click (delegated from the messages list). */
export async function rate(button, { announce, onError }) {
  const group = button.closest(".feedback");
  const item = button.closest(".msg");
  const wasPressed = button.getAttribute("aria-pressed") === "true";
  const rating = wasPressed ? null : button.dataset.rating;
  try {
    const data = await api.rateReply(item.dataset.id, rating);
    setPressed(group, data.feedback?.rating ?? null);
  } catch (error) {
    onError(error);
    return;
  }
  item.querySelector(".feedback-comment")?.remove();
  if (rating === null) {
    delete group.dataset.comment;
    announce(gettext("Rating removed."));
    return;
  }
  announce(rating === "up" ? gettext("Rated as good.") : gettext("Rated as bad."));
  const form = commentForm(group, item.dataset.id, rating, { announce, onError });
  group.after(form);
  form.querySelector("input").focus();
}
