// Message versions and the branch shown: the page's pure helpers.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  branchChanges,
  editorKey,
  versionInfo,
  withNewVersion,
} from "../../static/chat/versions.js";

describe("a message's versions", () => {
  it("says where a version sits and what lies either side", () => {
    assert.deepEqual(versionInfo(["a", "b", "c"], "b"), {
      index: 1,
      count: 3,
      prev: "a",
      next: "c",
    });
    assert.deepEqual(versionInfo(["a", "b"], "a"), { index: 0, count: 2, prev: null, next: "b" });
    assert.deepEqual(versionInfo(["a", "b"], "b"), { index: 1, count: 2, prev: "a", next: null });
  });

  it("counts a message without known versions as its only one", () => {
    assert.deepEqual(versionInfo(undefined, "x"), { index: 0, count: 1, prev: null, next: null });
    assert.deepEqual(versionInfo([], "x").count, 1);
  });

  it("adds a new version last, once", () => {
    assert.deepEqual(withNewVersion(["a", "b"], "a", "c"), ["a", "b", "c"]);
    assert.deepEqual(withNewVersion(null, "a", "b"), ["a", "b"]);
    assert.deepEqual(withNewVersion(["a", "b"], "a", "b"), ["a", "b"]);
  });
});

describe("a branch switched in another tab", () => {
  const frame = { type: "branch", conversation: "c1", message: "m1", leaf: "m9" };

  it("reloads the open conversation when it ends elsewhere", () => {
    assert.equal(branchChanges(frame, { conversation: "c1", lastId: "m2" }), true);
  });

  it("ignores its own switch, other conversations and a new chat", () => {
    assert.equal(branchChanges(frame, { conversation: "c1", lastId: "m9" }), false);
    assert.equal(branchChanges(frame, { conversation: "c2", lastId: "m2" }), false);
    assert.equal(branchChanges(frame, { conversation: null, lastId: null }), false);
  });
});

describe("the editor's keys", () => {
  it("saves on Ctrl or Cmd+Enter and cancels on Escape", () => {
    assert.equal(editorKey({ key: "Enter", ctrlKey: true }), "save");
    assert.equal(editorKey({ key: "Enter", metaKey: true }), "save");
    assert.equal(editorKey({ key: "Escape" }), "cancel");
  });

  it("lets Enter make a new line, and leaves an IME composition alone", () => {
    assert.equal(editorKey({ key: "Enter" }), null);
    assert.equal(editorKey({ key: "Escape", isComposing: true }), null);
  });
});
