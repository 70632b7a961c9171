#!/usr/bin/python3
"""Make a conformance reference (NAME.json, NAME.png, MANIFEST.tsv, readers.json) for any folder of files.

Usage:  /usr/bin/python3 scripts/corpus/make-reference.py SAMPLES_DIR OUT_DIR [--jobs N]
Needs:  pydicom 2.3 + numpy + Pillow, python3-gdcm as a pixel data handler (Debian: python3-pydicom
        python3-numpy python3-pil python3-gdcm); for readers.json, dcmtk's dcmdump and dcm2pnm (Debian: dcmtk)
        and gdcmdump (libgdcm-tools) on PATH (a missing tool is recorded as "not installed").

Every regular file below SAMPLES_DIR is a sample (hidden files and folders skipped, links not followed),
unless SAMPLES_DIR has a MANIFEST.tsv (as the shared corpus does): then the files its first column names.
NAME is the file's path relative to SAMPLES_DIR with a final ".dcm" dropped, so OUT_DIR has the layout of
/work/shared/dicom-samples/reference/ (NAME.json, NAME.png, sub-folders for nested files), plus:
  * MANIFEST.tsv: the columns of the shared corpus's manifest (source and license unknown here, left out);
    `purpose` summarises what the reference readers did.
  * readers.json: {file: what pydicom, its pixel data handlers, dcmdump, dcm2pnm and gdcmdump made of it}.
pydicom reads each file in a child process of its own with a time limit, and the command-line readers have
one too, so a file that crashes or hangs a reader costs only that reader's verdict on it (a pixel decoder that
dies counts as "not decoded"; dying before NAME.json is written, as "cannot read").

The rules are those of the shared corpus (its README and reference/make_reference.py's docstring):

Reading ("pydicom can read"): pydicom.dcmread(path); on InvalidDicomError (no 'DICM') retried with
force=True, and the forced result is accepted only if it holds at least one element of group 0x0008 or
higher whose tag is in the DICOM dictionary.  Any exception means "cannot read": no JSON, no PNG.

JSON: PatientName, PatientID, StudyDate, StudyDescription, Modality, Rows, Columns, NumberOfFrames,
SOPInstanceUID, TransferSyntaxUID (from the file meta, null without it) and element_count_top_level =
len(ds) (file meta excluded, a sequence counts as one).  PersonName -> str(), IS/US -> int, others str(),
absent -> null.  A multi-valued string is joined with backslashes, as it is stored (str() of pydicom's
MultiValue would print a Python list; the shared corpus has no such value in these fields).

PNG: the first frame, 8-bit, when pydicom decodes the pixel data (ds.pixel_array, i.e. the first handler
in pydicom.config.pixel_data_handlers order that succeeds; readers.json names it).  A dataset without a
Transfer Syntax UID gets one in memory matching how pydicom parsed it.
  * PALETTE COLOR: apply_color_lut; a 16-bit LUT's output scaled by 255/65535.
  * 3 samples: YBR_FULL / YBR_FULL_422 -> RGB with convert_color_space (the handlers return YBR data for
    these); samples above 8 bits scaled from [0, 2**BitsStored - 1] to [0, 255].
  * grayscale: apply_modality_lut, then apply_voi_lut(index=0) when pydicom would apply something:
      - a VOI LUT Sequence (preferred over a window): mapped linearly from [min, max] of the first LUT's
        data to [0, 255];
      - a window: mapped linearly from pydicom's own output range [y_min, y_max] (-1e12 and +1e12 pushed
        through apply_voi_lut) to [0, 255];
      - neither (or a VOI step pydicom refuses, e.g. a LINEAR width < 1; readers.json says so): min-max of
        the modality LUT output of that frame (a constant image -> all 0).
    MONOCHROME1: inverted after scaling (255 - v).
  Rounding: numpy.rint, clip to [0, 255], uint8.
When pydicom cannot decode the pixels but dcm2pnm can, dcm2pnm's PNG becomes NAME.png (readers.json:
png_reference "dcm2pnm"), rendered with the same choice of VOI step (+Wl 1, +Wi 1 or +Wm), no overlays.

readers.json, per file:
  has_pixel_data: pydicom or dcmdump sees (7FE0,0010), (7FE0,0008) or (7FE0,0009) at the top level;
  png_reference: "pydicom", "dcm2pnm" or null (no NAME.png);
  pydicom: read ("yes", "forced" or "no"), error, value_errors (JSON keys set to null because pydicom could
  not convert their value); pixels: has_pixel_data, decoded, handler, error, rule (the
  PNG rule used), and every other available handler that supports the transfer syntax with its MAD against
  the reference PNG (or its error): where two decoders disagree, this shows it.
  dcmdump: exit_code (negative: killed by that signal), ok (exit 0), errors (its E:/F: lines, first 5).
  gdcmdump: exit_code, ok, errors (GDCM's own reading; informative, not part of the acceptance rule).
  dcm2pnm: the first of dcm2pnm, dcmj2pnm (JPEG), dcml2pnm (JPEG-LS) that decodes: tool, exit_code, decoded,
  voi (the option used), errors, mad_vs_reference (when both PNGs exist and have the same shape).
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

KEYS = [
    "PatientName",
    "PatientID",
    "StudyDate",
    "StudyDescription",
    "Modality",
    "Rows",
    "Columns",
    "NumberOfFrames",
    "SOPInstanceUID",
    "TransferSyntaxUID",
]
MANIFEST_COLUMNS = [
    "file",
    "sop_class",
    "modality",
    "transfer_syntax_uid",
    "photometric",
    "rows",
    "columns",
    "frames",
    "bits_allocated",
    "bits_stored",
    "pixel_representation",
    "charset",
    "size_bytes",
    "purpose",
]
PER_FILE_SECONDS = 300
TOOL_SECONDS = 120


def reference_name(relative):
    return relative[:-4] if relative.endswith(".dcm") else relative


def list_samples(samples_dir, out_dir):
    """The files a MANIFEST.tsv in samples_dir lists; without one, every regular file below it, sorted."""
    manifest = os.path.join(samples_dir, "MANIFEST.tsv")
    if os.path.isfile(manifest):
        with open(manifest, encoding="utf-8") as rows:
            return [line.split("\t", 1)[0] for line in rows.read().splitlines()[1:] if line.strip()]
    out_real = os.path.realpath(out_dir)
    found = []
    for root, dirs, files in os.walk(samples_dir):
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and os.path.realpath(os.path.join(root, d)) != out_real
        )
        for name in sorted(files):
            path = os.path.join(root, name)
            if name.startswith(".") or os.path.islink(path) or not os.path.isfile(path):
                continue
            found.append(os.path.relpath(path, samples_dir))
    return found


# ---------------------------------------------------------------- pydicom (runs in the per-file child)


def read_dataset(path):
    """(dataset, "yes" | "forced") or raises: the corpus's reading rule."""
    import pydicom
    from pydicom.datadict import dictionary_has_tag
    from pydicom.errors import InvalidDicomError

    try:
        return pydicom.dcmread(path), "yes"
    except InvalidDicomError:
        ds = pydicom.dcmread(path, force=True)
        if not any(tag.group >= 0x0008 and dictionary_has_tag(tag) for tag in ds.keys()):
            raise ValueError("forced read found no standard element of group 0008 or higher")
        return ds, "forced"


def json_value(ds, keyword):
    from pydicom.multival import MultiValue

    if keyword == "TransferSyntaxUID":
        meta = getattr(ds, "file_meta", None)
        value = meta.get("TransferSyntaxUID") if meta is not None else None
        return None if value is None else str(value)
    if keyword not in ds:
        return None
    element = ds[keyword]
    value = element.value
    if value is None:
        return None
    if element.VR in ("IS", "US", "SS", "UL", "SL"):
        if isinstance(value, MultiValue):
            value = value[0] if len(value) else None
        try:
            return None if value is None else int(value)
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, MultiValue):
        return "\\".join(str(v) for v in value)
    return str(value)  # a PersonName too: its decoded form


def ensure_transfer_syntax(ds):
    """A dataset without a Transfer Syntax UID gets the one pydicom parsed it with (in memory only)."""
    import pydicom
    from pydicom.dataset import FileMetaDataset

    if getattr(ds, "file_meta", None) is None:
        ds.file_meta = FileMetaDataset()
    if "TransferSyntaxUID" in ds.file_meta:
        return
    if ds.is_little_endian is False:
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRBigEndian
    elif ds.is_implicit_VR is False:
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    else:
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian


def has_pixel_data(ds):
    return any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"))


def first_frame(ds, arr):
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    single_ndim = 2 if samples == 1 else 3
    return arr[0] if arr.ndim > single_ndim else arr


def to_uint8(values):
    import numpy as np

    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def scale_linear(arr, low, high):
    import numpy as np

    arr = arr.astype(np.float64)
    if high <= low:
        return np.zeros(arr.shape)
    return (arr - low) / (high - low) * 255.0


def voi_step(ds):
    """Which VOI step apply_voi_lut(index 0) takes on ds: "voi_lut", "window" or None (pydicom's own test)."""
    valid_voi = False
    if ds.get("VOILUTSequence"):
        item = ds.VOILUTSequence[0]
        valid_voi = None not in (item.get("LUTDescriptor"), item.get("LUTData"))
    valid_window = None not in (ds.get("WindowCenter"), ds.get("WindowWidth"))
    return "voi_lut" if valid_voi else "window" if valid_window else None


def render(ds, arr):
    """(uint8 image, rule, note): the first frame by the rules in this module's docstring."""
    import numpy as np
    from pydicom.pixel_data_handlers.util import (
        apply_color_lut,
        apply_modality_lut,
        apply_voi,
        apply_voi_lut,
        convert_color_space,
    )

    frame = first_frame(ds, arr)
    photometric = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    if photometric == "PALETTE COLOR" and samples == 1:
        rgb = apply_color_lut(frame, ds)
        scale = 255.0 / 65535.0 if rgb.dtype == np.uint16 else 1.0
        return to_uint8(rgb.astype(np.float64) * scale), "palette", None
    if samples == 3:
        if photometric in ("YBR_FULL", "YBR_FULL_422"):
            frame = convert_color_space(frame, "YBR_FULL", "RGB")
        bits_stored = int(ds.get("BitsStored", 8) or 8)
        if bits_stored > 8:
            return to_uint8(scale_linear(frame, 0, 2**bits_stored - 1)), "colour", None
        return to_uint8(frame), "colour", None
    if samples != 1:
        raise ValueError(f"{samples} samples per pixel: no rule for it")

    modality = apply_modality_lut(frame, ds)
    step = voi_step(ds)
    note = None
    out = None
    try:
        if step == "voi_lut":
            item = ds.VOILUTSequence[0]
            entries = item.LUTDescriptor[0] or 2**16
            first = item.LUTDescriptor[1]
            lut = apply_voi(np.arange(first, first + entries), ds, 0)
            out = scale_linear(apply_voi_lut(modality, ds, index=0), float(lut.min()), float(lut.max()))
        elif step == "window":
            y_min, y_max = apply_voi_lut(np.array([-1e12, 1e12], dtype=np.float64), ds, index=0)
            out = scale_linear(apply_voi_lut(modality, ds, index=0), float(y_min), float(y_max))
    except Exception as error:  # pydicom refuses the VOI step: min-max, and say so
        note = f"{step} refused by pydicom ({error}): min-max instead"
        step = None
    if out is None:
        out = scale_linear(modality, float(np.min(modality)), float(np.max(modality)))
        step = "minmax"
    image = to_uint8(out)
    if photometric == "MONOCHROME1":
        image = 255 - image
    return image, step, note


def handler_names(ds):
    """(name for convert_pixel_data, HANDLER_NAME) of each handler pydicom would try, in its order."""
    import pydicom

    ts = ds.file_meta.TransferSyntaxUID
    names = []
    for handler in pydicom.config.pixel_data_handlers:
        if handler is None or not handler.supports_transfer_syntax(ts) or not handler.is_available():
            continue
        module = handler.__name__.rsplit(".", 1)[-1].replace("_handler", "")
        names.append((module, handler.HANDLER_NAME))
    return names


def decode_with(path, module):
    ds, _ = read_dataset(path)
    ensure_transfer_syntax(ds)
    ds.convert_pixel_data(handler_name=module)
    return ds, ds._pixel_array


def mad(a, b):
    import numpy as np

    if a.shape != b.shape:
        return None
    return float(np.mean(np.abs(a.astype(np.float64) - b.astype(np.float64))))


def save_png(image, path):
    from PIL import Image

    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(image, "RGB" if image.ndim == 3 else "L").save(path)


def load_png(path):
    import numpy as np
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB") if im.mode in ("RGB", "RGBA", "P") else im.convert("L"))


def manifest_row(relative, size, ds):
    from pydicom.multival import MultiValue

    def attr(keyword):
        try:
            value = ds.get(keyword)
        except Exception:  # a value pydicom cannot convert: the manifest is informative only
            return ""
        if value is None:
            return ""
        return "\\".join(str(v) for v in value) if isinstance(value, (list, MultiValue)) else str(value)

    row = {column: "" for column in MANIFEST_COLUMNS}
    row["file"] = relative
    row["size_bytes"] = str(size)
    if ds is None:
        row["sop_class"] = "(pydicom cannot read it)"
    else:
        ts = ds.file_meta.get("TransferSyntaxUID") if getattr(ds, "file_meta", None) is not None else None
        row.update(
            sop_class=attr("SOPClassUID"),
            modality=attr("Modality"),
            transfer_syntax_uid=str(ts) if ts else "(none: no meta header)",
            photometric=attr("PhotometricInterpretation"),
            rows=attr("Rows"),
            columns=attr("Columns"),
            frames=attr("NumberOfFrames") or ("1" if has_pixel_data(ds) else ""),
            bits_allocated=attr("BitsAllocated"),
            bits_stored=attr("BitsStored"),
            pixel_representation=attr("PixelRepresentation"),
        )
        row["charset"] = attr("SpecificCharacterSet")
    # A tab or newline in a value would break the TSV.
    return {k: " ".join(str(v).split()) if k != "file" else v for k, v in row.items()}


def purpose(readers):
    """The manifest's `purpose` column here: what the reference readers did."""
    pixels = readers["pydicom"].get("pixels", {})
    return "; ".join(
        [
            f"pydicom {readers['pydicom']['read']}",
            f"pixels {pixels.get('handler') or ('not decoded' if pixels.get('has_pixel_data') else 'none')}",
            f"dcmdump {'ok' if readers['dcmdump'].get('ok') else 'fails'}",
            f"dcm2pnm {'decodes' if readers['dcm2pnm'].get('decoded') else 'no image'}",
            f"png from {readers.get('png_reference') or 'none'}",
        ]
    )


# ---------------------------------------------------------------- the command-line readers: dcmtk, GDCM


def run_tool(argv):
    try:
        done = subprocess.run(argv, capture_output=True, timeout=TOOL_SECONDS)
    except subprocess.TimeoutExpired:
        return None, "", f"timed out after {TOOL_SECONDS} s"
    except FileNotFoundError:
        return None, "", f"{argv[0]} not installed"
    return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")


def tool_errors(stderr):
    lines = [line for line in stderr.splitlines() if line.startswith(("E:", "F:"))]
    return lines[:5]


def dcmdump(path):
    """dcmdump's verdict, and the file's top-level tags with their values as dcmdump prints them."""
    code, stdout, stderr = run_tool(["dcmdump", "-M", path])
    result = {"exit_code": code, "ok": code == 0, "errors": tool_errors(stderr) if code is not None else [stderr]}
    top_level = {}
    for line in stdout.splitlines():
        if line.startswith("(") and len(line) > 15:
            value = line[15:].split("#", 1)[0].strip()
            top_level[line[1:10].upper()] = value[1:-1] if value.startswith("[") else value
    return result, top_level


def gdcmdump(path):
    """GDCM's verdict (informative: the acceptance rule is pydicom's or dcmtk's; an abort is a negative exit)."""
    code, _, stderr = run_tool(["gdcmdump", path])
    lines = [line for line in stderr.splitlines() if line.strip()][:3]
    return {"exit_code": code, "ok": code == 0, "errors": lines if code != 0 else []}


# dcm2pnm of Debian's dcmtk 3.6.7 decodes native and RLE data only; its older siblings add JPEG / JPEG-LS.
PNM_TOOLS = ["dcm2pnm", "dcmj2pnm", "dcml2pnm"]


def dcm2pnm(path, top_level, out_png):
    """The first of PNM_TOOLS that decodes, with the VOI step the reference rules would take (grayscale)."""
    photometric = top_level.get("0028,0004", "").strip().upper()
    if not photometric.startswith("MONOCHROME"):
        voi = []
    elif "0028,3010" in top_level:
        voi = ["+Wl", "1"]
    elif "0028,1050" in top_level and "0028,1051" in top_level:
        voi = ["+Wi", "1"]
    else:
        voi = ["+Wm"]
    result = {}
    for tool in PNM_TOOLS:
        code, _, stderr = run_tool([tool, "+on", "-O", *voi, path, out_png])
        decoded = code == 0 and os.path.exists(out_png) and os.path.getsize(out_png) > 0
        attempt = {"exit_code": code, "decoded": decoded, "tool": tool, "voi": " ".join(voi) or "none"}
        attempt["errors"] = tool_errors(stderr) if code is not None else [stderr]
        if decoded or not result:
            result = attempt
        if decoded:
            break
    return result


# ---------------------------------------------------------------- one file


def pydicom_one(samples_dir, relative, out_dir):
    """The child's work: NAME.json / NAME.png from pydicom; prints {"pydicom": ..., "row": ...} as JSON."""
    warnings.simplefilter("ignore")
    path = os.path.join(samples_dir, relative)
    name = reference_name(relative)
    result = {"read": "no"}
    ds = None
    try:
        ds, how = read_dataset(path)
        reference = {"element_count_top_level": len(ds)}
        result["read"] = how
    except BaseException as error:  # RecursionError included: a hostile nesting is "cannot read"
        result["error"] = f"{type(error).__name__}: {error}"[:300]
        ds = None
    if ds is not None:
        for key in KEYS:
            try:
                reference[key] = json_value(ds, key)
            except Exception as error:  # one value pydicom cannot convert: null, and say so
                reference[key] = None
                result.setdefault("value_errors", {})[key] = f"{type(error).__name__}: {error}"[:200]
        reference = {key: reference[key] for key in [*KEYS, "element_count_top_level"]}
        json_path = os.path.join(out_dir, name + ".json")
        os.makedirs(os.path.dirname(json_path), exist_ok=True)
        with open(json_path, "w", encoding="utf-8") as out:
            json.dump(reference, out, indent=1, ensure_ascii=False)
            out.write("\n")

    pixels = {"has_pixel_data": bool(ds is not None and has_pixel_data(ds))}
    result["pixels"] = pixels
    image = None
    if pixels["has_pixel_data"]:
        ensure_transfer_syntax(ds)
        names = handler_names(ds)
        pixels["handlers"] = {}
        if not names:
            pixels["error"] = f"no available handler for {ds.file_meta.TransferSyntaxUID}"
        for module, handler_name in names:
            try:
                decoded_ds, arr = decode_with(path, module)
                rendered, rule, note = render(decoded_ds, arr)
            except Exception as error:
                pixels["handlers"][handler_name] = {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
                continue
            if image is None:
                image = rendered
                pixels.update(decoded=True, handler=handler_name, rule=rule)
                if note:
                    pixels["note"] = note
                pixels["handlers"][handler_name] = {"ok": True}
            else:
                pixels["handlers"][handler_name] = {"ok": True, "mad_vs_reference": mad(rendered, image)}
        if image is None:
            pixels["decoded"] = False
            errors = [h["error"] for h in pixels["handlers"].values() if "error" in h]
            pixels.setdefault("error", errors[0] if errors else "not decoded")
        else:
            save_png(image, os.path.join(out_dir, name + ".png"))
    print(json.dumps({"pydicom": result, "row": manifest_row(relative, os.path.getsize(path), ds)}))


def pydicom_in_child(samples_dir, relative, out_dir):
    """pydicom_one in a process of its own: a reader that crashes or hangs costs only its own file."""
    argv = [sys.executable, os.path.abspath(__file__), "--one", samples_dir, relative, out_dir]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=PER_FILE_SECONDS)
        if done.returncode == 0:
            return json.loads(done.stdout.decode().strip().splitlines()[-1])
        failure = f"exited {done.returncode}: {done.stderr.decode(errors='replace').strip()[-300:]}"
    except subprocess.TimeoutExpired:
        failure = f"timed out after {PER_FILE_SECONDS} s"
    # NAME.json is written before any pixel decoder runs: if it is there, pydicom read the file and a decoder died.
    name = reference_name(relative)
    png_path = os.path.join(out_dir, name + ".png")
    if os.path.exists(png_path):
        os.remove(png_path)
    read = os.path.exists(os.path.join(out_dir, name + ".json"))
    pixels = {"has_pixel_data": read, "decoded": False, "error": f"pydicom {failure}"} if read else {}
    result = {"read": "yes" if read else "no", "error": f"pydicom {failure}", "pixels": pixels}
    return {"pydicom": result, "row": manifest_row(relative, os.path.getsize(os.path.join(samples_dir, relative)), None)}


def make_one(samples_dir, relative, out_dir):
    """One file: pydicom in a child process, then dcmdump, gdcmdump and dcm2pnm; its manifest row and readers."""
    path = os.path.join(samples_dir, relative)
    png_path = os.path.join(out_dir, reference_name(relative) + ".png")
    child = pydicom_in_child(samples_dir, relative, out_dir)
    readers = {"pydicom": child["pydicom"], "png_reference": "pydicom" if os.path.exists(png_path) else None}
    readers["dcmdump"], top_level = dcmdump(path)
    pixel_tags = ("7FE0,0010", "7FE0,0008", "7FE0,0009")
    has_pixels = readers["pydicom"]["pixels"].get("has_pixel_data", False)
    readers["has_pixel_data"] = has_pixels or any(tag in top_level for tag in pixel_tags)
    readers["gdcmdump"] = gdcmdump(path)
    with tempfile.TemporaryDirectory() as scratch:
        tool_png = os.path.join(scratch, "dcm2pnm.png")
        readers["dcm2pnm"] = dcm2pnm(path, top_level, tool_png)
        if readers["dcm2pnm"]["decoded"]:
            if readers["png_reference"]:
                readers["dcm2pnm"]["mad_vs_reference"] = mad(load_png(tool_png), load_png(png_path))
            else:
                os.makedirs(os.path.dirname(png_path), exist_ok=True)
                shutil.copyfile(tool_png, png_path)
                readers["png_reference"] = "dcm2pnm"
    row = child["row"]
    row["purpose"] = purpose(readers)
    return {"row": row, "readers": readers}


# ---------------------------------------------------------------- the folder


def make_reference(samples_dir, out_dir, jobs):
    os.makedirs(out_dir, exist_ok=True)
    files = list_samples(samples_dir, out_dir)
    names = {}
    for relative in files:
        names.setdefault(reference_name(relative), []).append(relative)
    clashes = {name: rels for name, rels in names.items() if len(rels) > 1}
    if clashes:
        sys.exit(f"make-reference: files that would share a reference name: {clashes}")

    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda relative: make_one(samples_dir, relative, out_dir), files))

    with open(os.path.join(out_dir, "MANIFEST.tsv"), "w", encoding="utf-8") as out:
        out.write("\t".join(MANIFEST_COLUMNS) + "\n")
        for result in results:
            out.write("\t".join(result["row"][c] for c in MANIFEST_COLUMNS) + "\n")
    with open(os.path.join(out_dir, "readers.json"), "w", encoding="utf-8") as out:
        json.dump({r["row"]["file"]: r["readers"] for r in results}, out, indent=1, ensure_ascii=False)
        out.write("\n")
    read = sum(1 for r in results if r["readers"]["pydicom"]["read"] != "no")
    pngs = sum(1 for r in results if r["readers"]["png_reference"])
    print(f"make-reference: {len(results)} files, pydicom reads {read}, {pngs} reference PNGs, in {out_dir}")


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--one":
        pydicom_one(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("samples_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    make_reference(os.path.abspath(args.samples_dir), os.path.abspath(args.out_dir), args.jobs)


if __name__ == "__main__":
    main()
