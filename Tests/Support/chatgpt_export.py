#!/usr/bin/env python3
"""Writes small ChatGPT conversations.json files for the end-to-end tests.

  chatgpt_export.py good FILE     two conversations with branches, a hidden
                                  message, a tool message, an image part, code
                                  content, a NUL and odd UTF-8
  chatgpt_export.py BAD FILE      the good file's first conversation, then a
                                  bad one: notarray | missingcurrent | cycle
  chatgpt_export.py deep FILE     one conversation whose current branch is a
                                  10,000-deep parent chain
"""
import json, sys

ODD = "NUL\u0000here, e\u0301, \u202eRTL\u202c, \U0001F600, \uffff, \u2028end"


def node(nid, parent, children, role=None, parts=None, text=None, time=None, hidden=False):
    n = {"id": nid, "parent": parent, "children": children, "message": None}
    if role is not None:
        content = {"content_type": "text", "parts": parts} if parts is not None else {"content_type": "code", "language": "python", "text": text}
        if parts is not None and any(not isinstance(p, str) for p in parts):
            content["content_type"] = "multimodal_text"
        n["message"] = {"id": nid, "author": {"role": role, "name": None, "metadata": {}}, "create_time": time,
                        "content": content, "status": "finished_successfully",
                        "metadata": {"is_visually_hidden_from_conversation": True} if hidden else {}}
    return n


def conversation(cid, create, current, nodes):
    return {"title": "t " + cid, "create_time": create, "update_time": create + 100, "id": cid, "conversation_id": cid,
            "current_node": current, "mapping": {n["id"]: n for n in nodes}}


def good():
    a = conversation("conv-a", 1700000000.0, "a2", [
        node("ra", None, ["sys"]),
        node("sys", "ra", ["u1"], "system", [""], hidden=True),
        node("u1", "sys", ["a1", "a1b"], "user", ["Hello " + ODD], time=1700000001.25),
        node("a1", "u1", [], "assistant", ["first try"], time=1700000002),
        node("a1b", "u1", ["u2"], "assistant", ["Hi there"], time=1700000003),
        node("u2", "a1b", ["a2"], "user", [{"content_type": "image_asset_pointer", "asset_pointer": "file-x"}, "what is this?"], time=1700000004),
        node("a2", "u2", [], "assistant", text="print(1)"),
    ])
    b = conversation("conv-b", 1600000000.5, "bb2", [
        node("rb", None, ["bu", "bu2"]),
        node("bu", "rb", [], "user", ["first wording"], time=1600000001),
        node("bu2", "rb", ["bt"], "user", ["second wording"], time=1600000002),
        node("bt", "bu2", ["bb2"], "tool", ["search results"], time=1600000003),
        node("bb2", "bt", [], "assistant", ["  ", "an answer"], time=1600000004),
    ])
    return [a, b]


def main():
    kind, path = sys.argv[1], sys.argv[2]
    if kind == "good":
        data = good()
    elif kind == "notarray":
        data = good()[0]
    elif kind == "missingcurrent":
        bad = conversation("conv-m", 1600000000, "gone", [node("r", None, [])])
        data = [good()[0], bad]
    elif kind == "cycle":
        bad = conversation("conv-c", 1600000000, "x", [node("x", "y", [], "user", ["x"]), node("y", "x", ["x"], "user", ["y"])])
        data = [good()[0], bad]
    elif kind == "deep":
        nodes = [node("d0", None, ["d1"], "user", ["m0"], time=1600000000)]
        for k in range(1, 10000):
            nodes.append(node("d%d" % k, "d%d" % (k - 1), ["d%d" % (k + 1)] if k < 9999 else [],
                              "user" if k % 2 == 0 else "assistant", ["m%d" % k], time=1600000000 + k))
        data = [conversation("conv-deep", 1600000000, "d9999", nodes)]
    else:
        sys.exit("unknown kind " + kind)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)


main()
