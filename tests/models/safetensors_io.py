"""safetensors files and sharded folders, written and read with the standard library only.

Why our own: Debian's python has no `safetensors` package, and the fixtures must be byte-for-byte
what the reference implementation (the Rust `safetensors` crate behind `save_file`) writes:
  - 8-byte little-endian header length N, then N bytes of JSON, then the data section;
  - the JSON lists `__metadata__` ({"format": "pt"}) first, then every tensor as
    {"dtype", "shape", "data_offsets"} in data order, compact separators;
  - tensors are laid out contiguously, sorted by dtype (the crate's Dtype order, last first:
    I64, F64, F32, I32, BF16, F16, I16, U8, BOOL ...) and then by name;
  - the header is padded with spaces to a multiple of 8 bytes.
A sharded folder is what transformers' save_pretrained writes: `<stem>-0000K-of-0000N.safetensors`
plus `<stem>.safetensors.index.json` = {"metadata": {"total_size": bytes}, "weight_map": {...}}
(json indent 2, sorted keys, trailing newline).

Tensors are passed as (name, dtype, shape, data) with `data` bytes-like (little-endian), so this
module needs no torch; the fixture writer converts torch tensors to bytes itself. Reading parses
and validates the header (the checks the Rust reader makes) and returns raw bytes per tensor.
"""

import inspect
import json
import os
import struct
import sys
import tempfile

DTYPE_BYTES = {"F64": 8, "I64": 8, "U64": 8, "F32": 4, "I32": 4, "U32": 4,
               "F16": 2, "BF16": 2, "I16": 2, "U16": 2, "I8": 1, "U8": 1, "BOOL": 1}
# The Rust crate's Dtype enum order; its writer sorts tensors by dtype descending, then name.
DTYPE_RANK = {d: i for i, d in enumerate(
    ["BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"])}
HEADER_LIMIT = 100 * 1000 * 1000  # the Rust reader refuses larger headers

assert sys.byteorder == "little", "the fixtures write native-endian tensor bytes"


class SafetensorsError(Exception):
    """A malformed file: the message names the file and what is wrong."""


def numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def _ordered(specs):
    """Data order of the reference writer: dtype (descending crate order), then name."""
    return sorted(specs, key=lambda s: (-DTYPE_RANK[s[1]], s[0]))


def header_bytes(specs, metadata=None):
    """The padded JSON header for [(name, dtype, shape)] already in data order."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    for name, dtype, shape in specs:
        size = numel(shape) * DTYPE_BYTES[dtype]
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return text


def _atomic_write(path, write_body):
    """Writes through a temporary file in the same folder, fsyncs, renames."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".safetensors", dir=folder)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp's 0600 would differ from a plain open()
        with os.fdopen(fd, "wb") as f:
            write_body(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_streaming(path, specs, produce, metadata=None):
    """Writes [(name, dtype, shape)] asking produce(name) for each tensor's bytes in data order:
    a bytes-like object, or a generator of bytes-like chunks (then not even one whole tensor
    need be in memory). metadata defaults to {"format": "pt"}."""
    if metadata is None:
        metadata = {"format": "pt"}
    ordered = _ordered([(n, d, tuple(s)) for n, d, s in specs])
    header = header_bytes(ordered, metadata)

    def body(f):
        f.write(struct.pack("<Q", len(header)))
        f.write(header)
        for name, dtype, shape in ordered:
            data = produce(name)
            written = 0
            for chunk in (data if inspect.isgenerator(data) else [data]):
                chunk = memoryview(chunk).cast("B")
                f.write(chunk)
                written += len(chunk)
            expected = numel(shape) * DTYPE_BYTES[dtype]
            if written != expected:
                raise ValueError(f"{path}: {name} has {written} bytes, "
                                 f"its shape needs {expected}")

    _atomic_write(path, body)


def write_file(path, tensors, metadata=None):
    """Writes [(name, dtype, shape, data)] as one safetensors file."""
    by_name = {t[0]: t[3] for t in tensors}
    if len(by_name) != len(tensors):
        raise ValueError(f"{path}: duplicate tensor names")
    write_streaming(path, [t[:3] for t in tensors], lambda n: by_name[n], metadata)


def plan_shards(specs, n_shards):
    """Splits [(name, dtype, shape)] (in state-dict order) into exactly n_shards groups the way
    transformers' greedy splitter does for some max_shard_size: a new shard starts when the next
    tensor would overflow the current one. Returns the smallest such limit's grouping."""
    sizes = [numel(s) * DTYPE_BYTES[d] for _, d, s in specs]

    def greedy(limit):
        groups, current, used = [], [], 0
        for spec, size in zip(specs, sizes):
            if current and used + size > limit:
                groups.append(current)
                current, used = [], 0
            current.append(spec)
            used += size
        if current:
            groups.append(current)
        return groups

    lo, hi = max(sizes), sum(sizes)  # greedy(limit) has fewer shards as limit grows
    while lo < hi:
        mid = (lo + hi) // 2
        if len(greedy(mid)) > n_shards:
            lo = mid + 1
        else:
            hi = mid
    groups = greedy(lo)
    if len(groups) != n_shards:
        raise ValueError(f"{len(specs)} tensors cannot be split greedily into {n_shards} shards")
    return groups


def write_folder(folder, tensors, stem="model", n_shards=1):
    """Writes [(name, dtype, shape, data)] (state-dict order) as <stem>.safetensors, or sharded
    into n_shards files plus the index. Returns the file names written."""
    if n_shards <= 1:
        name = f"{stem}.safetensors"
        write_file(os.path.join(folder, name), tensors)
        return [name]
    by_name = {t[0]: t for t in tensors}
    groups = plan_shards([t[:3] for t in tensors], n_shards)
    weight_map, names = {}, []
    for k, group in enumerate(groups):
        name = f"{stem}-{k + 1:05d}-of-{n_shards:05d}.safetensors"
        write_file(os.path.join(folder, name), [by_name[n] for n, _, _ in group])
        weight_map.update({n: name for n, _, _ in group})
        names.append(name)
    total = sum(numel(t[2]) * DTYPE_BYTES[t[1]] for t in tensors)
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    index_name = f"{stem}.safetensors.index.json"
    with open(os.path.join(folder, index_name), "w") as f:
        f.write(json.dumps(index, indent=2, sort_keys=True) + "\n")
    return names + [index_name]


def read_header(path):
    """Parses and validates a file's header. Returns (entries, metadata, header_len, data_len) with
    entries = {name: {"dtype", "shape", "data_offsets"}}. Raises SafetensorsError naming the
    file for anything the reference reader rejects: a short file, a header length past the end,
    JSON that is not an object, unknown dtypes, bad shapes, offsets that do not match
    dtype x shape, overlap, holes, or a data section longer than its tensors."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise SafetensorsError(f"{path}: {size} bytes, too short for the header length")
            (n,) = struct.unpack("<Q", head)
            if n > HEADER_LIMIT or 8 + n > size:
                raise SafetensorsError(f"{path}: header length {n} runs past the end "
                                       f"({size} bytes)")
            raw = f.read(n)
    except OSError as e:
        raise SafetensorsError(f"{path}: cannot read: {e.strerror}") from None
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f"{path}: header is not valid JSON: {e}") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{path}: header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (isinstance(metadata, dict)
                                     and all(isinstance(v, str) for v in metadata.values())):
        raise SafetensorsError(f"{path}: __metadata__ is not a string-to-string object")
    data_len = size - 8 - n
    spans = []
    for name, e in header.items():
        where = f"{path}: tensor {name!r}"
        if not isinstance(e, dict) or set(e) != {"dtype", "shape", "data_offsets"}:
            raise SafetensorsError(f"{where}: needs exactly dtype, shape, data_offsets")
        if e["dtype"] not in DTYPE_BYTES:
            raise SafetensorsError(f"{where}: unknown dtype {e['dtype']!r}")
        shape, offs = e["shape"], e["data_offsets"]
        if not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape):
            raise SafetensorsError(f"{where}: shape {shape!r} is not a list of sizes")
        if (not isinstance(offs, list) or len(offs) != 2
                or not all(type(o) is int and o >= 0 for o in offs) or offs[1] < offs[0]):
            raise SafetensorsError(f"{where}: data_offsets {offs!r} are not [begin, end]")
        if offs[1] - offs[0] != numel(shape) * DTYPE_BYTES[e["dtype"]]:
            raise SafetensorsError(f"{where}: {offs[1] - offs[0]} bytes, but {e['dtype']} "
                                   f"{shape} needs {numel(shape) * DTYPE_BYTES[e['dtype']]}")
        spans.append((offs[0], offs[1], name))
    position = 0
    for begin, end, name in sorted(spans):
        if begin != position:
            kind = "overlaps the previous tensor" if begin < position else "leaves a hole before it"
            raise SafetensorsError(f"{path}: tensor {name!r} at byte {begin} {kind} "
                                   f"(expected {position})")
        position = end
    if position != data_len:
        raise SafetensorsError(f"{path}: tensors cover {position} data bytes, "
                               f"the file holds {data_len}")
    return header, metadata, n, data_len


def read_tensors(path, names=None):
    """{name: (dtype, shape, bytes)} for the named tensors (all by default)."""
    entries, _, n, _ = read_header(path)
    out = {}
    with open(path, "rb") as f:
        for name in (names if names is not None else entries):
            e = entries[name]
            begin, end = e["data_offsets"]
            f.seek(8 + n + begin)
            out[name] = (e["dtype"], tuple(e["shape"]), f.read(end - begin))
    return out


def folder_files(folder, stem="model"):
    """The safetensors files of a model folder and its weight map: ([file names], {tensor: file}
    or None without an index). Raises SafetensorsError when neither layout is there."""
    index_path = os.path.join(folder, f"{stem}.safetensors.index.json")
    if os.path.exists(index_path):
        with open(index_path) as f:
            index = json.load(f)
        weight_map = index.get("weight_map", {})
        return sorted(set(weight_map.values())), weight_map
    single = f"{stem}.safetensors"
    if os.path.exists(os.path.join(folder, single)):
        return [single], None
    raise SafetensorsError(f"{folder}: neither {single} nor {stem}.safetensors.index.json")
