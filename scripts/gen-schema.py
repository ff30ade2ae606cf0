"""Generates schemas/<api>.json from the apitools message modules shipped with gcloud.

gcloud's generated clients hold every message, field, type and enum of each Google API, with
Google's field docs ("Output only.", "Required."). Gantry validates requests against this at run
time, so an unknown field or a wrong type is rejected the way Google's front end rejects it.
Run through scripts/gen-schema.sh with gcloud's bundled Python; the output is committed.
"""
import importlib, inspect, json, re, sys

from apitools.base.protorpclite import messages as m
from apitools.base.py import extra_types


def field_docs(cls):
    """Parses the 'Fields:' section of an apitools docstring into {field: text}."""
    doc = inspect.getdoc(cls) or ""
    out, cur, in_fields = {}, None, False
    for line in doc.splitlines():
        if line.strip() == "Fields:":
            in_fields = True
            continue
        if not in_fields:
            continue
        mo = re.match(r"^  (\w+): (.*)$", line)
        if mo:
            cur = mo.group(1)
            out[cur] = mo.group(2)
        elif line.startswith("    ") and cur:
            out[cur] += " " + line.strip()
        elif line.strip() == "":
            continue
        else:
            in_fields = False
    return out


def is_map(cls):
    fields = {f.name: f for f in cls.all_fields()}
    return list(fields) == ["additionalProperties"] and fields["additionalProperties"].repeated


def describe(field, owner_docs, messages, enums, prefix):
    d = {}
    if field.repeated:
        d["repeated"] = True
    if isinstance(field, m.EnumField):
        enum_cls = field.type
        ename = prefix + enum_cls.__name__.replace("ValueValuesEnum", "").replace("ValueListEntryValuesEnum", "").replace("ValuesEnum", "")
        enums[ename] = [[v.name, v.number] for v in sorted(enum_cls, key=lambda v: v.number)]
        d["type"] = "enum"
        d["enum"] = ename
    elif isinstance(field, m.MessageField):
        t = field.type
        if t in (extra_types.JsonValue, extra_types.JsonObject):
            d["type"] = "value"
        elif t is extra_types.DateTimeMessage if hasattr(extra_types, "DateTimeMessage") else False:
            d["type"] = "timestamp"
        elif is_map(t):
            vf = {f.name: f for f in t.AdditionalProperty.all_fields()}["value"]
            d["type"] = "map"
            d["value"] = describe(vf, {}, messages, enums, prefix)
        else:
            d["type"] = "message"
            d["message"] = t.__name__
            collect(t, messages, enums)
    elif isinstance(field, m.StringField):
        d["type"] = "string"
    elif isinstance(field, m.BooleanField):
        d["type"] = "bool"
    elif isinstance(field, m.BytesField):
        d["type"] = "bytes"
    elif isinstance(field, m.FloatField):
        d["type"] = "double"
    elif isinstance(field, m.IntegerField):
        v = field.variant
        d["type"] = {m.Variant.INT32: "int32", m.Variant.UINT32: "uint32", m.Variant.SINT32: "int32",
                     m.Variant.INT64: "int64", m.Variant.UINT64: "uint64", m.Variant.SINT64: "int64"}.get(v, "int64")
    else:
        raise Exception("unknown field kind %r" % field)
    doc = owner_docs.get(field.name, "")
    if doc.startswith("Output only") or " Output only." in doc[:40]:
        d["outputOnly"] = True
    if doc.startswith("Required") or doc.startswith("Optional. Required"):
        d["required"] = True
    if "Immutable." in doc[:30]:
        d["immutable"] = True
    return d


# Fields whose explicit zero means something (proto3 `optional` or a oneof member), which apitools does not record:
# their zero is kept, not dropped as a default.
PRESENCE = {("TaskSpec", "maxRetries"), ("GoogleCloudRunV2TaskTemplate", "maxRetries")}


def collect(cls, messages, enums):
    name = cls.__name__
    if name in messages:
        return
    messages[name] = None
    docs = field_docs(cls)
    fields = {}
    for f in sorted(cls.all_fields(), key=lambda f: f.number):
        fields[f.name] = describe(f, docs, messages, enums, name + ".")
        if (name, f.name) in PRESENCE:
            fields[f.name]["presence"] = True
    messages[name] = fields


def main():
    module, roots = sys.argv[1], sys.argv[2:]
    mod = importlib.import_module(module)
    messages, enums = {}, {}
    for r in roots:
        collect(getattr(mod, r), messages, enums)
    json.dump({"source": module, "messages": messages, "enums": enums}, sys.stdout, indent=1, sort_keys=True)


main()
