#!/usr/bin/env python3
"""embed-check.py --model-dir DIR --url http://127.0.0.1:PORT/v1 -- checks that
an embedding server answers all-MiniLM-L6-v2's vectors.

It computes reference vectors itself, from the sentence-transformers folder
DIR (config.json, vocab.txt, model.safetensors) with numpy alone: BERT's
WordPiece tokenizer (lower-cased, accents stripped, punctuation and CJK
characters split off), the 6-layer encoder in float64, mean pooling over the
tokens, unit length. Then it asks the server for the same sentences in one
batch (and, when the server has /tokenize, for their token ids) and compares.

Prints one line per sentence (cosine between the server's vector and the
reference), then a summary: the lowest cosine, the largest difference in any
coordinate, and a semantic sanity check (each paraphrase pair nearer than the
unrelated sentences). Exit 0 when every cosine is at least --min-cosine
(default 0.999: the server's weights are float16), 1 when a vector is wrong,
65 when the model folder or the server's answer is malformed, 69 when the
server cannot be reached.

local-server.sh build runs it against the freshly converted model before
marking it complete; run it by hand against a running server the same way.
"""
import argparse
import json
import math
import os
import struct
import sys
import unicodedata
import urllib.error
import urllib.request

import numpy as np

# (a, b): paraphrases; the check wants cos(a, b) above a's cosine with every
# sentence outside its pair. The rest exercise the tokenizer.
PAIRS = [
    ("My sister lives in Lisbon and works as a nurse.",
     "My sister is a nurse; she lives in Lisbon."),
    ("I am allergic to peanuts.",
     "Peanuts give me an allergic reaction."),
    ("The meeting was moved to Thursday afternoon.",
     "We rescheduled the meeting for Thursday after lunch."),
    ("My dog Biscuit loves chasing squirrels in the park.",
     "Biscuit, my dog, likes to chase squirrels at the park."),
]
EXTRA = [
    "Café crème à Zürich, naïve façade — ÉCOLE!",
    "I've been told he's there; 'RE you sure? 3.14159 and 1,000,000",
    "我想在apple工作 — 東京タワー",
    "rough day 😶 my boss yelled at me :( #work @home",
    "   leading and   repeated    spaces\tand\ttabs\n",
    "antidisestablishmentarianism supercalifragilisticexpialidocious",
]
SENTENCES = [s for pair in PAIRS for s in pair] + EXTRA


class Malformed(Exception):
    pass


# ---- the reference: tokenizer ------------------------------------------------

def is_punctuation(ch):
    cp = ord(ch)
    # BERT counts all non-letter/number ASCII as punctuation, and Unicode P*
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def basic_words(text):
    """BertNormalizer + BertPreTokenizer: clean, lower-case, strip accents, split."""
    cleaned = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD:
            continue
        if ch in " \t\n\r" or unicodedata.category(ch) == "Zs":
            cleaned.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf"):
            continue
        elif is_cjk(cp):
            cleaned.append(" %s " % ch)
        else:
            cleaned.append(ch)
    text = unicodedata.normalize("NFD", "".join(cleaned).lower())
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    words = []
    for chunk in text.split():
        current = ""
        for ch in chunk:
            if is_punctuation(ch):
                if current:
                    words.append(current)
                    current = ""
                words.append(ch)
            else:
                current += ch
        if current:
            words.append(current)
    return words


def wordpiece(words, vocab, unk_id):
    ids = []
    for word in words:
        if len(word) > 100:
            ids.append(unk_id)
            continue
        pieces, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in vocab:
                    found = vocab[piece]
                    break
                end -= 1
            if found is None:
                pieces = [unk_id]
                break
            pieces.append(found)
            start = end
        ids.extend(pieces)
    return ids


# ---- the reference: encoder ------------------------------------------------------

def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise Malformed("%s is too short" % path)
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise Malformed("%s: header length does not fit the file" % path)
    header = json.loads(data[8:8 + n])
    body = memoryview(data)[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__" or info.get("dtype") not in ("F32", "F16"):
            continue
        begin, end = info["data_offsets"]
        dtype = np.dtype("<f4") if info["dtype"] == "F32" else np.dtype("<f2")
        array = np.frombuffer(body[begin:end], dtype=dtype)
        if array.size != int(np.prod(info["shape"])):
            raise Malformed("%s: tensor %s does not match its shape" % (path, name))
        out[name] = array.reshape(info["shape"]).astype(np.float64)
    return out


def layer_norm(x, w, b, eps):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


_erf = np.vectorize(math.erf)


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))  # the exact (erf) GELU BERT uses


class Reference:
    def __init__(self, model_dir):
        with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
            self.config = json.load(f)
        with open(os.path.join(model_dir, "vocab.txt"), encoding="utf-8") as f:
            tokens = f.read().split("\n")
        self.vocab = {t: i for i, t in enumerate(tokens) if t}
        self.w = read_safetensors(os.path.join(model_dir, "model.safetensors"))
        self.eps = float(self.config["layer_norm_eps"])
        self.heads = int(self.config["num_attention_heads"])
        self.layers = int(self.config["num_hidden_layers"])

    def token_ids(self, text):
        ids = wordpiece(basic_words(text), self.vocab, self.vocab["[UNK]"])
        return [self.vocab["[CLS]"]] + ids + [self.vocab["[SEP]"]]

    def embed(self, text):
        w, ids = self.w, self.token_ids(text)
        n = len(ids)
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:n]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        d = x.shape[1] // self.heads
        for i in range(self.layers):
            p = "encoder.layer.%d." % i
            def dense(v, name):
                return v @ w[p + name + ".weight"].T + w[p + name + ".bias"]
            q = dense(x, "attention.self.query").reshape(n, self.heads, d).transpose(1, 0, 2)
            k = dense(x, "attention.self.key").reshape(n, self.heads, d).transpose(1, 0, 2)
            v = dense(x, "attention.self.value").reshape(n, self.heads, d).transpose(1, 0, 2)
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, -1)
            x = layer_norm(x + dense(context, "attention.output.dense"),
                           w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], self.eps)
            hidden = gelu(dense(x, "intermediate.dense"))
            x = layer_norm(x + dense(hidden, "output.dense"),
                           w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps)
        pooled = x.mean(axis=0)
        return pooled / np.linalg.norm(pooled)


# ---- the server ---------------------------------------------------------------------

def post(url, body, timeout):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
    with opener.open(request, timeout=timeout) as response:
        return json.loads(response.read())


def server_vectors(base_url, model, timeout):
    answer = post(base_url.rstrip("/") + "/embeddings", {"input": SENTENCES, "model": model}, timeout)
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, list) or len(data) != len(SENTENCES):
        raise Malformed("the server's answer has no data list of %d items" % len(SENTENCES))
    vectors = [None] * len(SENTENCES)
    for item in data:
        index, vector = item.get("index"), item.get("embedding")
        if not (isinstance(index, int) and 0 <= index < len(SENTENCES)) or not isinstance(vector, list):
            raise Malformed("the server's answer has an item without index or embedding")
        vectors[index] = np.array(vector, dtype=np.float64)
    if any(v is None for v in vectors):
        raise Malformed("the server's answer repeats an index")
    return vectors


def server_token_ids(base_url, text, timeout):
    """The server's tokens for text, or None when it has no /tokenize."""
    root = base_url.rstrip("/")
    root = root[:-3] if root.endswith("/v1") else root
    try:
        answer = post(root + "/tokenize", {"content": text, "add_special": True}, timeout)
    except urllib.error.HTTPError:
        return None
    tokens = answer.get("tokens") if isinstance(answer, dict) else None
    return tokens if isinstance(tokens, list) else None


def main():
    parser = argparse.ArgumentParser(description="compare an embedding server with a numpy reference of all-MiniLM-L6-v2")
    parser.add_argument("--model-dir", required=True, help="the sentence-transformers folder (model.safetensors, vocab.txt, config.json)")
    parser.add_argument("--url", required=True, help="the server's base URL, e.g. http://127.0.0.1:8089/v1")
    parser.add_argument("--model", default="all-MiniLM-L6-v2", help="the model name sent in the request")
    parser.add_argument("--min-cosine", type=float, default=0.999)
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    if not (0 < args.min_cosine <= 1) or not (0 < args.timeout <= 3600):
        parser.error("--min-cosine must be in (0, 1] and --timeout in (0, 3600]")

    try:
        reference = Reference(args.model_dir)
        expected = [reference.embed(s) for s in SENTENCES]
    except (OSError, ValueError, KeyError, Malformed) as e:
        sys.stderr.write("embed-check: cannot compute the reference from %s: %s\n" % (args.model_dir, e))
        return 65
    try:
        got = server_vectors(args.url, args.model, args.timeout)
        token_mismatch = []
        for s in SENTENCES:
            ids = server_token_ids(args.url, s, args.timeout)
            if ids is not None and ids != reference.token_ids(s):
                token_mismatch.append(s)
    except Malformed as e:
        sys.stderr.write("embed-check: %s\n" % e)
        return 65
    except (OSError, ValueError) as e:
        sys.stderr.write("embed-check: cannot ask %s: %s\n" % (args.url, e))
        return 69

    worst_cos, worst_diff, bad = 1.0, 0.0, 0
    for s, a, b in zip(SENTENCES, got, expected):
        if a.shape != b.shape:
            print("  dim %d, expected %d  %r" % (a.size, b.size, s[:50]))
            bad += 1
            continue
        cos = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
        diff = float(np.abs(a - b).max())
        worst_cos, worst_diff = min(worst_cos, cos), max(worst_diff, diff)
        bad += cos < args.min_cosine
        print("  cos %.6f  |v|=%.6f  max|diff| %.2e  %r" % (cos, float(np.linalg.norm(a)), diff, s[:50]))
    for s in token_mismatch:
        print("  tokens differ from the reference: %r" % s[:50])

    unit = np.array([v / np.linalg.norm(v) for v in got])
    sims = unit @ unit.T
    ordered = 0
    for k in range(len(PAIRS)):
        a, b = 2 * k, 2 * k + 1
        others = [j for j in range(len(SENTENCES)) if j not in (a, b)]
        nearest_other = max(sims[a, j] for j in others)
        ordered += sims[a, b] > nearest_other
        print("  pair %d: paraphrase %.3f, nearest unrelated %.3f" % (k + 1, sims[a, b], nearest_other))
    print("embed-check: %d sentences, lowest cosine %.6f, largest coordinate difference %.2e, "
          "%d of %d paraphrases nearest, %d token mismatches"
          % (len(SENTENCES), worst_cos, worst_diff, ordered, len(PAIRS), len(token_mismatch)))
    if bad or ordered < len(PAIRS):
        sys.stderr.write("embed-check: the server's vectors are not all-MiniLM-L6-v2's (%d below cosine %.4f, %d of %d paraphrases nearest)\n"
                         % (bad, args.min_cosine, ordered, len(PAIRS)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
