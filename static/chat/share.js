// The Share dialog: make a read-only link to the open conversation (a snapshot of
// the branch shown), copy it, choose whether the page shows the user's name, and
// revoke it. The link is shown once, when made: the server keeps only a digest of
// its token, so a later visit offers a new link instead (the old one stops).
import * as api from "./api.js";
import { format, gettext } from "./i18n.js";
import { formatDate } from "./text.js";

export class ShareDialog {
  /** nodes: opener, dialog, state, showName, link, url, copy, create, revoke. */
  constructor(nodes, { announce, copyText }) {
    this.nodes = nodes;
    this.announce = announce;
    this.copyText = copyText;
    this.conversation = null;
    nodes.opener.addEventListener("click", () => this.open());
    nodes.create.addEventListener("click", () => this.#create());
    nodes.revoke.addEventListener("click", () => this.#revoke());
    nodes.copy.addEventListener("click", () => this.#copy());
  }

  /** The open conversation (null: a new chat, nothing to share yet). */
  setConversation(id) {
    this.conversation = id;
    this.nodes.opener.setAttribute("aria-disabled", String(!id));
  }

  async open() {
    const { dialog, link, state, create, revoke } = this.nodes;
    if (!this.conversation) {
      this.announce(gettext("Start a conversation first, then share it."));
      return;
    }
    link.hidden = true;
    revoke.hidden = true;
    create.textContent = gettext("Create link");
    state.textContent = "";
    if (!dialog.open) dialog.showModal();
    try {
      this.#show(await api.getShare(this.conversation));
    } catch (error) {
      state.textContent = error.message;
    }
  }

  #show(share) {
    const { state, showName, revoke, create } = this.nodes;
    if (!share.shared) {
      state.textContent = gettext("Not shared yet.");
      return;
    }
    showName.checked = share.show_name;
    revoke.hidden = false;
    create.textContent = gettext("Update link");
    state.textContent = format(
      gettext(
        "Shared on %(date)s. Updating makes a new link with the conversation as it is now; the old link stops working.",
      ),
      { date: formatDate(share.created) },
    );
  }

  async #create() {
    const { state, link, url, revoke, create, showName } = this.nodes;
    create.setAttribute("aria-disabled", "true");
    try {
      const share = await api.createShare(this.conversation, showName.checked);
      url.value = share.url;
      link.hidden = false;
      revoke.hidden = false;
      create.textContent = gettext("Update link");
      state.textContent = gettext("Link ready: anyone with it can read this conversation.");
      url.focus();
      url.select();
    } catch (error) {
      state.textContent = error.message;
    } finally {
      create.removeAttribute("aria-disabled");
    }
  }

  async #revoke() {
    const { state, link, revoke, create } = this.nodes;
    try {
      await api.revokeShare(this.conversation);
      link.hidden = true;
      revoke.hidden = true;
      create.textContent = gettext("Create link");
      state.textContent = gettext("Link revoked: it no longer works.");
      create.focus();
    } catch (error) {
      state.textContent = error.message;
    }
  }

  async #copy() {
    const ok = await this.copyText(this.nodes.url.value);
    this.announce(ok ? gettext("Link copied.") : gettext("Could not copy."));
  }
}
