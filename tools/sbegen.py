#!/usr/bin/env python3
"""sbegen.py - C codec generator for SBE 1.0 XML schemas (dtx).

Reads one SBE message schema (schemas/*.xml) and writes one self-contained C
header with, per message:

  * constants: template id, block length, since version, and per field its
    offset, size, FIX id, array length and null value;
  * a plain C struct holding the decoded values (host order; enums and sets
    raw, so a value outside its enum passes through for the caller to judge;
    var data as pointer + length into the buffer);
  * per-field get/put accessors on the root block, and whole-message
    encode/decode functions (root block + var data, without the SBE header).

Every load and store is memcpy-based and little-endian, so any buffer
alignment is fine and no pointer is ever cast to a wider type.

It also checks the schema: offsets may leave gaps but never overlap, fields
must fit the declared blockLength, names must be unique, var data must follow
the fixed fields, and only SBE 1.0 constructs it knows are accepted (it stops
on repeating groups, which no dtx schema uses yet, rather than ignore them).

Usage: python3 tools/sbegen.py schemas/dtx-7001.xml -o build/gen/dtx_sbe_7001.h
       [--prefix dtx_sbe7001]     (default: dtx_sbe<schema id>)

Python 3 standard library only.
"""

import argparse
import os
import re
import sys
import tempfile
import xml.etree.ElementTree as ET

# name: (size, C type, load/store suffix, default null literal, min literal, max literal)
PRIMS = {
    'char':   (1, 'char',     'u8',  '0', '0x20', '0x7e'),
    'int8':   (1, 'int8_t',   'i8',  'INT8_MIN', '(INT8_MIN + 1)', 'INT8_MAX'),
    'int16':  (2, 'int16_t',  'i16', 'INT16_MIN', '(INT16_MIN + 1)', 'INT16_MAX'),
    'int32':  (4, 'int32_t',  'i32', 'INT32_MIN', '(INT32_MIN + 1)', 'INT32_MAX'),
    'int64':  (8, 'int64_t',  'i64', 'INT64_MIN', '(INT64_MIN + 1)', 'INT64_MAX'),
    'uint8':  (1, 'uint8_t',  'u8',  'UINT8_MAX', '0', '(UINT8_MAX - 1)'),
    'uint16': (2, 'uint16_t', 'u16', 'UINT16_MAX', '0', '(UINT16_MAX - 1)'),
    'uint32': (4, 'uint32_t', 'u32', 'UINT32_MAX', '0', '(UINT32_MAX - 1)'),
    'uint64': (8, 'uint64_t', 'u64', 'UINT64_MAX', '0', '(UINT64_MAX - 1)'),
    'float':  (4, 'float',    'f32', 'NAN', '-FLT_MAX', 'FLT_MAX'),
    'double': (8, 'double',   'f64', 'NAN', '-DBL_MAX', 'DBL_MAX'),
}

C_KEYWORDS = set('''auto break case char const continue default do double else enum
extern float for goto if inline int long register restrict return short signed
sizeof static struct switch typedef union unsigned void volatile while _Bool
_Complex _Imaginary bool class delete new operator private protected public
template this throw try catch virtual namespace using friend mutable typename
explicit export'''.split())


class SchemaError(Exception):
    pass


def snake(name):
    s = re.sub(r'([A-Z]+)([A-Z][a-z])', r'\1_\2', name)
    s = re.sub(r'([a-z0-9])([A-Z])', r'\1_\2', s)
    s = re.sub(r'[^A-Za-z0-9_]', '_', s)
    return s.lower()


def ident(name):
    s = snake(name)
    return s + '_' if s in C_KEYWORDS else s


def upper(name):
    return snake(name).upper()


def local(tag):
    return tag.rsplit('}', 1)[-1]


def comment(text):
    if not text:
        return ''
    return ' '.join(text.replace('*/', '* /').split())


def int_attr(el, attr, default=None, what=''):
    v = el.get(attr)
    if v is None:
        return default
    try:
        return int(v, 0)
    except ValueError:
        raise SchemaError('%s: %s="%s" is not an integer' % (what, attr, v))


def c_int_literal(prim, value):
    """A C literal for an integer value of the given primitive type."""
    if prim == 'int64' and value == -(1 << 63):
        return 'INT64_MIN'
    if prim == 'int32' and value == -(1 << 31):
        return 'INT32_MIN'
    if prim.startswith('uint'):
        return '%dU' % value if prim != 'uint64' else '%dULL' % value
    if prim == 'int64':
        return '%dLL' % value
    return '%d' % value


def parse_value(prim, text, what):
    """Parses a literal (number, or a character for char encodings)."""
    text = (text or '').strip()
    if prim == 'char':
        if len(text) == 1:
            return ord(text)
        raise SchemaError('%s: char value "%s" is not one character' % (what, text))
    if prim in ('float', 'double'):
        try:
            return float(text)
        except ValueError:
            raise SchemaError('%s: "%s" is not a number' % (what, text))
    try:
        v = int(text, 0)
    except ValueError:
        raise SchemaError('%s: "%s" is not an integer' % (what, text))
    size = PRIMS[prim][0] * 8
    lo, hi = (-(1 << (size - 1)), (1 << (size - 1)) - 1) if prim.startswith('int') else (0, (1 << size) - 1)
    if not lo <= v <= hi:
        raise SchemaError('%s: %d does not fit %s' % (what, v, prim))
    return v


# ---------------------------------------------------------------------------
# type model

class Encoded:
    kind = 'encoded'

    def __init__(self, name, prim, length=1, presence='required', null=None,
                 min_value=None, max_value=None, const=None, char_enc=None,
                 description='', since=0):
        self.name, self.prim, self.length = name, prim, length
        self.presence, self.null = presence, null
        self.min_value, self.max_value = min_value, max_value
        self.const, self.char_enc = const, char_enc
        self.description, self.since = description, since

    @property
    def size(self):
        if self.presence == 'constant':
            return 0
        return PRIMS[self.prim][0] * self.length


class Enum:
    kind = 'enum'

    def __init__(self, name, prim, values, description=''):
        self.name, self.prim, self.values, self.description = name, prim, values, description
        self.presence = 'required'

    @property
    def size(self):
        return PRIMS[self.prim][0]


class Set:
    kind = 'set'

    def __init__(self, name, prim, choices, description=''):
        self.name, self.prim, self.choices, self.description = name, prim, choices, description
        self.presence = 'required'

    @property
    def size(self):
        return PRIMS[self.prim][0]


class Member:
    def __init__(self, name, typ, offset, description=''):
        self.name, self.type, self.offset, self.description = name, typ, offset, description


class Composite:
    kind = 'composite'

    def __init__(self, name, members, size, description=''):
        self.name, self.members, self.size, self.description = name, members, size, description
        self.presence = 'required'

    def member(self, name):
        for m in self.members:
            if m.name == name:
                return m
        return None

    @property
    def is_var_data(self):
        vd = self.member('varData')
        return vd is not None and self.member('length') is not None and \
            vd.type.kind == 'encoded' and vd.type.length == 0


class Field:
    def __init__(self, name, fid, typ, offset, presence, since, description, const=None):
        self.name, self.id, self.type, self.offset = name, fid, typ, offset
        self.presence, self.since, self.description, self.const = presence, since, description, const

    @property
    def size(self):
        return 0 if self.presence == 'constant' else self.type.size


class VarData:
    def __init__(self, name, fid, typ, since, description):
        self.name, self.id, self.type, self.since, self.description = name, fid, typ, since, description
        lt = typ.member('length').type
        vt = typ.member('varData').type
        if lt.kind != 'encoded' or lt.prim not in ('uint8', 'uint16', 'uint32'):
            raise SchemaError('data %s: length of %s must be uint8, uint16 or uint32' % (name, typ.name))
        self.len_prim = lt.prim
        self.len_size = PRIMS[lt.prim][0]
        default_max = {'uint8': 254, 'uint16': 65534, 'uint32': 1 << 30}[lt.prim]
        self.max = lt.max_value if lt.max_value is not None else default_max
        self.text = vt.prim == 'char' or (vt.char_enc is not None and vt.char_enc.lower() not in ('', 'none'))


class Message:
    def __init__(self, name, mid, block_length, since, description, semantic, fields, var):
        self.name, self.id, self.block_length, self.since = name, mid, block_length, since
        self.description, self.semantic, self.fields, self.var = description, semantic, fields, var

    def block_length_at(self, version):
        """Root block a sender of `version` writes: up to its last field."""
        if all(f.since <= version for f in self.fields):
            return self.block_length
        end = 0
        for f in self.fields:
            if f.since <= version:
                end = max(end, f.offset + f.size)
        return end

    def has_gaps(self):
        pos = 0
        for f in self.fields:
            if f.size == 0:
                continue
            if f.offset != pos:
                return True
            pos = f.offset + f.size
        return pos != self.block_length


class Schema:
    def __init__(self, path):
        self.path = path
        try:
            tree = ET.parse(path)
        except ET.ParseError as e:
            raise SchemaError('XML: %s' % e)
        root = tree.getroot()
        if local(root.tag) != 'messageSchema':
            raise SchemaError('root element is <%s>, expected <messageSchema>' % local(root.tag))
        self.id = int_attr(root, 'id', what='messageSchema')
        if self.id is None:
            raise SchemaError('messageSchema has no id')
        self.version = int_attr(root, 'version', 0, 'messageSchema')
        self.package = root.get('package', '')
        self.description = root.get('description', '')
        self.byte_order = root.get('byteOrder', 'littleEndian')
        if self.byte_order != 'littleEndian':
            raise SchemaError('byteOrder %s: only littleEndian is supported' % self.byte_order)
        self.header_name = root.get('headerType', 'messageHeader')

        self.type_elems = {}
        for types in root:
            if local(types.tag) != 'types':
                continue
            for el in types:
                t = local(el.tag)
                if t not in ('type', 'composite', 'enum', 'set'):
                    raise SchemaError('unknown element <%s> in <types>' % t)
                n = el.get('name')
                if not n:
                    raise SchemaError('<%s> without a name in <types>' % t)
                if n in self.type_elems or n in PRIMS:
                    raise SchemaError('type %s defined twice' % n)
                self.type_elems[n] = el
        self.types = {}
        self.resolving = set()
        for n in self.type_elems:
            self.resolve(n)

        if self.header_name not in self.types or self.types[self.header_name].kind != 'composite':
            raise SchemaError('header composite %s is missing' % self.header_name)
        hdr = self.types[self.header_name]
        for i, want in enumerate(('blockLength', 'templateId', 'schemaId', 'version')):
            if i >= len(hdr.members) or hdr.members[i].name != want:
                raise SchemaError('%s must be blockLength, templateId, schemaId, version' % self.header_name)
        self.header = hdr

        self.messages = []
        seen_ids, seen_names = set(), set()
        for el in root:
            if local(el.tag) != 'message':
                continue
            m = self.parse_message(el)
            if m.id in seen_ids:
                raise SchemaError('message id %d used twice' % m.id)
            if m.name in seen_names:
                raise SchemaError('message name %s used twice' % m.name)
            seen_ids.add(m.id)
            seen_names.add(m.name)
            self.messages.append(m)

    # -- types --------------------------------------------------------------

    def lookup(self, name, what):
        if name in PRIMS:
            return Encoded(name, name)
        if name not in self.type_elems:
            raise SchemaError('%s: unknown type %s' % (what, name))
        return self.resolve(name)

    def resolve(self, name):
        if name in self.types:
            return self.types[name]
        if name in self.resolving:
            raise SchemaError('type %s refers to itself' % name)
        self.resolving.add(name)
        t = self.build(self.type_elems[name], name)
        self.resolving.discard(name)
        self.types[name] = t
        return t

    def encoding_prim(self, el, what):
        enc = el.get('encodingType')
        if enc in PRIMS:
            return enc
        if enc in self.type_elems:
            t = self.resolve(enc)
            if t.kind == 'encoded' and t.length == 1:
                return t.prim
        raise SchemaError('%s: encodingType %s is not a primitive' % (what, enc))

    def build(self, el, name):
        t = local(el.tag)
        what = '%s %s' % (t, name)
        desc = el.get('description', '')
        if t == 'type':
            prim = el.get('primitiveType')
            if prim not in PRIMS:
                raise SchemaError('%s: primitiveType %s unknown' % (what, prim))
            length = int_attr(el, 'length', 1, what)
            presence = el.get('presence', 'required')
            if presence not in ('required', 'optional', 'constant'):
                raise SchemaError('%s: presence %s unknown' % (what, presence))
            const = None
            if presence == 'constant':
                const = (el.text or '').strip()
                if length == 1:
                    const = parse_value(prim, const, what)
            null = parse_value(prim, el.get('nullValue'), what) if el.get('nullValue') is not None else None
            mn = parse_value(prim, el.get('minValue'), what) if el.get('minValue') is not None else None
            mx = parse_value(prim, el.get('maxValue'), what) if el.get('maxValue') is not None else None
            return Encoded(name, prim, length, presence, null, mn, mx, const,
                           el.get('characterEncoding'), desc, int_attr(el, 'sinceVersion', 0, what))
        if t == 'enum':
            prim = self.encoding_prim(el, what)
            values, seen = [], set()
            for v in el:
                if local(v.tag) != 'validValue':
                    raise SchemaError('%s: unexpected <%s>' % (what, local(v.tag)))
                vn = v.get('name')
                val = parse_value(prim, v.text, '%s value %s' % (what, vn))
                if vn in seen:
                    raise SchemaError('%s: value name %s twice' % (what, vn))
                seen.add(vn)
                values.append((vn, val, v.get('description', '')))
            return Enum(name, prim, values, desc)
        if t == 'set':
            prim = self.encoding_prim(el, what)
            bits = PRIMS[prim][0] * 8
            choices = []
            for c in el:
                if local(c.tag) != 'choice':
                    raise SchemaError('%s: unexpected <%s>' % (what, local(c.tag)))
                bit = parse_value('uint8', c.text, '%s choice %s' % (what, c.get('name')))
                if bit >= bits:
                    raise SchemaError('%s: choice %s bit %d beyond %s' % (what, c.get('name'), bit, prim))
                choices.append((c.get('name'), bit, c.get('description', '')))
            return Set(name, prim, choices, desc)
        if t == 'composite':
            members, pos, names = [], 0, set()
            for m in el:
                mt = local(m.tag)
                mn = m.get('name')
                if not mn or mn in names:
                    raise SchemaError('%s: member name missing or twice: %s' % (what, mn))
                names.add(mn)
                if mt == 'ref':
                    typ = self.lookup(m.get('type'), '%s member %s' % (what, mn))
                elif mt in ('type', 'enum', 'set', 'composite'):
                    typ = self.build(m, mn)
                else:
                    raise SchemaError('%s: unexpected <%s>' % (what, mt))
                off = int_attr(m, 'offset', None, what)
                if off is not None:
                    if off < pos:
                        raise SchemaError('%s: member %s offset %d overlaps (previous ends at %d)' % (what, mn, off, pos))
                    pos = off
                members.append(Member(mn, typ, pos, m.get('description', '')))
                pos += typ.size
            return Composite(name, members, pos, desc)
        raise SchemaError('unknown type element <%s>' % t)

    # -- messages -------------------------------------------------------------

    def parse_message(self, el):
        name = el.get('name')
        mid = int_attr(el, 'id', None, 'message %s' % name)
        if not name or mid is None:
            raise SchemaError('message without name or id')
        what = 'message %s (%d)' % (name, mid)
        since = int_attr(el, 'sinceVersion', 0, what)
        fields, var, pos, names = [], [], 0, set()
        for f in el:
            ft = local(f.tag)
            fn = f.get('name')
            if ft == 'group':
                raise SchemaError('%s: repeating group %s: groups are not supported' % (what, fn))
            if ft not in ('field', 'data'):
                raise SchemaError('%s: unexpected <%s>' % (what, ft))
            if not fn or fn in names:
                raise SchemaError('%s: field name missing or twice: %s' % (what, fn))
            if snake(fn) in (snake(n) for n in names):
                raise SchemaError('%s: field %s clashes with another after case folding' % (what, fn))
            names.add(fn)
            fid = int_attr(f, 'id', None, '%s field %s' % (what, fn))
            if fid is None:
                raise SchemaError('%s: field %s has no id' % (what, fn))
            typ = self.lookup(f.get('type'), '%s field %s' % (what, fn))
            fsince = int_attr(f, 'sinceVersion', 0, what)
            if fsince > self.version:
                raise SchemaError('%s: field %s sinceVersion %d is after the schema version %d' % (what, fn, fsince, self.version))
            if ft == 'data':
                if typ.kind != 'composite' or not typ.is_var_data:
                    raise SchemaError('%s: data %s type %s is not a length + varData composite' % (what, fn, typ.name))
                var.append(VarData(fn, fid, typ, fsince, f.get('description', '')))
                continue
            if var:
                raise SchemaError('%s: field %s follows var data' % (what, fn))
            if typ.kind == 'composite' and typ.is_var_data:
                raise SchemaError('%s: field %s uses var data type %s' % (what, fn, typ.name))
            presence = f.get('presence', typ.presence)
            if presence not in ('required', 'optional', 'constant'):
                raise SchemaError('%s: field %s presence %s unknown' % (what, fn, presence))
            const = None
            if presence == 'constant':
                if typ.kind == 'encoded' and typ.presence == 'constant':
                    const = typ.const
                elif f.get('valueRef'):
                    const = f.get('valueRef')
                else:
                    raise SchemaError('%s: constant field %s has no value' % (what, fn))
            off = int_attr(f, 'offset', None, what)
            size = 0 if presence == 'constant' else typ.size
            if off is not None and size:
                if off < pos:
                    raise SchemaError('%s: field %s offset %d overlaps the previous field (ends at %d)' % (what, fn, off, pos))
                pos = off
            fields.append(Field(fn, fid, typ, pos, presence, fsince, f.get('description', ''), const))
            pos += size
        bl = int_attr(el, 'blockLength', None, what)
        if bl is None:
            bl = pos
        elif bl < pos:
            raise SchemaError('%s: fields end at %d, beyond blockLength %d' % (what, pos, bl))
        if bl > 0xFFFF:
            raise SchemaError('%s: blockLength %d does not fit uint16' % (what, bl))
        return Message(name, mid, bl, since, el.get('description', ''), el.get('semanticType', ''), fields, var)


# ---------------------------------------------------------------------------
# C output

HELPERS = r'''
#ifndef DTX_SBE_CODEC_HELPERS
#define DTX_SBE_CODEC_HELPERS
/* Little-endian loads and stores at any alignment (memcpy, never a cast of the
 * pointer). Shared by every generated header. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define DTX_SBE_LE16(v) __builtin_bswap16(v)
#define DTX_SBE_LE32(v) __builtin_bswap32(v)
#define DTX_SBE_LE64(v) __builtin_bswap64(v)
#else
#define DTX_SBE_LE16(v) (v)
#define DTX_SBE_LE32(v) (v)
#define DTX_SBE_LE64(v) (v)
#endif
static inline uint8_t dtx_sbe_load_u8(const uint8_t *p) { return p[0]; }
static inline uint16_t dtx_sbe_load_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return DTX_SBE_LE16(v); }
static inline uint32_t dtx_sbe_load_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return DTX_SBE_LE32(v); }
static inline uint64_t dtx_sbe_load_u64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return DTX_SBE_LE64(v); }
static inline int8_t dtx_sbe_load_i8(const uint8_t *p) { int8_t v; memcpy(&v, p, 1); return v; }
static inline int16_t dtx_sbe_load_i16(const uint8_t *p) { uint16_t u = dtx_sbe_load_u16(p); int16_t v; memcpy(&v, &u, 2); return v; }
static inline int32_t dtx_sbe_load_i32(const uint8_t *p) { uint32_t u = dtx_sbe_load_u32(p); int32_t v; memcpy(&v, &u, 4); return v; }
static inline int64_t dtx_sbe_load_i64(const uint8_t *p) { uint64_t u = dtx_sbe_load_u64(p); int64_t v; memcpy(&v, &u, 8); return v; }
static inline float dtx_sbe_load_f32(const uint8_t *p) { uint32_t u = dtx_sbe_load_u32(p); float v; memcpy(&v, &u, 4); return v; }
static inline double dtx_sbe_load_f64(const uint8_t *p) { uint64_t u = dtx_sbe_load_u64(p); double v; memcpy(&v, &u, 8); return v; }
static inline void dtx_sbe_store_u8(uint8_t *p, uint8_t v) { p[0] = v; }
static inline void dtx_sbe_store_u16(uint8_t *p, uint16_t v) { v = DTX_SBE_LE16(v); memcpy(p, &v, 2); }
static inline void dtx_sbe_store_u32(uint8_t *p, uint32_t v) { v = DTX_SBE_LE32(v); memcpy(p, &v, 4); }
static inline void dtx_sbe_store_u64(uint8_t *p, uint64_t v) { v = DTX_SBE_LE64(v); memcpy(p, &v, 8); }
static inline void dtx_sbe_store_i8(uint8_t *p, int8_t v) { memcpy(p, &v, 1); }
static inline void dtx_sbe_store_i16(uint8_t *p, int16_t v) { uint16_t u; memcpy(&u, &v, 2); dtx_sbe_store_u16(p, u); }
static inline void dtx_sbe_store_i32(uint8_t *p, int32_t v) { uint32_t u; memcpy(&u, &v, 4); dtx_sbe_store_u32(p, u); }
static inline void dtx_sbe_store_i64(uint8_t *p, int64_t v) { uint64_t u; memcpy(&u, &v, 8); dtx_sbe_store_u64(p, u); }
static inline void dtx_sbe_store_f32(uint8_t *p, float v) { uint32_t u; memcpy(&u, &v, 4); dtx_sbe_store_u32(p, u); }
static inline void dtx_sbe_store_f64(uint8_t *p, double v) { uint64_t u; memcpy(&u, &v, 8); dtx_sbe_store_u64(p, u); }
#endif /* DTX_SBE_CODEC_HELPERS */
'''


class Gen:
    def __init__(self, schema, prefix, source_name):
        self.s = schema
        self.p = prefix
        self.P = prefix.upper()
        self.src = source_name
        self.out = []
        self.macros = set()

    def w(self, line=''):
        if line.startswith('#define '):
            name = line.split()[1].split('(')[0]
            if name in self.macros:
                raise SchemaError('generated macro %s twice (rename a message or field)' % name)
            self.macros.add(name)
        self.out.append(line)

    def ctype(self, typ):
        if typ.kind == 'composite':
            return '%s_%s' % (self.p, snake(typ.name))
        return PRIMS[typ.prim][1]

    def suffix(self, typ):
        return PRIMS[typ.prim][2]

    def null_literal(self, typ, field_presence):
        """C literal of the null value of an optional scalar, or None."""
        if typ.kind == 'encoded' and typ.length == 1 and field_presence == 'optional':
            if typ.null is not None:
                if typ.prim in ('float', 'double'):
                    return repr(typ.null)
                return c_int_literal(typ.prim, typ.null)
            return PRIMS[typ.prim][3]
        if typ.kind in ('enum', 'set') and field_presence == 'optional':
            return PRIMS[typ.prim][3]
        return None

    # -- pieces ---------------------------------------------------------------

    def gen_enum(self, t):
        n, N = snake(t.name), upper(t.name)
        self.w('/* enum %s (%s)%s */' % (t.name, t.prim, ': ' + comment(t.description) if t.description else ''))
        for vn, val, vd in t.values:
            lit = c_int_literal(t.prim, val) if t.prim != 'char' else "'%s'" % chr(val).replace("'", "\\'")
            self.w('#define %s_%s_%s %s%s' % (self.P, N, upper(vn), lit, ('  /* %s */' % comment(vd)) if vd else ''))
        self.w('static inline int %s_%s_is_valid(uint64_t v)' % (self.p, n))
        self.w('{')
        self.w('    switch (v) {')
        for vn, val, _ in t.values:
            self.w('    case %s:' % c_int_literal(t.prim, val))
        if t.values:
            self.w('        return 1;')
        self.w('    default:')
        self.w('        return 0;')
        self.w('    }')
        self.w('}')
        self.w('static inline const char *%s_%s_name(uint64_t v)' % (self.p, n))
        self.w('{')
        self.w('    switch (v) {')
        for vn, val, _ in t.values:
            self.w('    case %s: return "%s";' % (c_int_literal(t.prim, val), vn))
        self.w('    default: return "?";')
        self.w('    }')
        self.w('}')
        self.w()

    def gen_set(self, t):
        N = upper(t.name)
        self.w('/* set %s (%s)%s */' % (t.name, t.prim, ': ' + comment(t.description) if t.description else ''))
        mask = 0
        for cn, bit, cd in t.choices:
            self.w('#define %s_%s_%s (%s << %d)%s' % (self.P, N, upper(cn), c_int_literal(t.prim, 1) if t.prim != 'uint64' else '1ULL',
                                                       bit, ('  /* %s */' % comment(cd)) if cd else ''))
            mask |= 1 << bit
        self.w('#define %s_%s_MASK %s' % (self.P, N, hex(mask) + ('ULL' if t.prim == 'uint64' else 'U')))
        self.w()

    def member_decl(self, name, typ):
        """C declaration of a struct member holding a decoded value."""
        if typ.kind == 'encoded' and typ.length != 1:
            return '%s %s[%d];' % (self.ctype(typ), ident(name), typ.length)
        return '%s %s;' % (self.ctype(typ), ident(name))

    def load_stmt(self, dst, typ, src):
        """Statement(s) reading typ at src (a uint8_t pointer expression) into dst."""
        if typ.kind == 'composite':
            return ['%s_%s_decode(%s, &%s);' % (self.p, snake(typ.name), src, dst)]
        if typ.kind == 'encoded' and typ.length != 1:
            if typ.prim in ('char', 'uint8', 'int8'):
                return ['memcpy(%s, %s, %d);' % (dst, src, typ.length)]
            sz = PRIMS[typ.prim][0]
            return ['for (unsigned i_ = 0; i_ < %d; i_++)' % typ.length,
                    '    %s[i_] = dtx_sbe_load_%s(%s + %d * i_);' % (dst, self.suffix(typ), src, sz)]
        if typ.prim == 'char':
            return ['%s = (char)dtx_sbe_load_u8(%s);' % (dst, src)]
        return ['%s = dtx_sbe_load_%s(%s);' % (dst, self.suffix(typ), src)]

    def store_stmt(self, typ, dst, src):
        if typ.kind == 'composite':
            return ['%s_%s_encode(%s, &%s);' % (self.p, snake(typ.name), dst, src)]
        if typ.kind == 'encoded' and typ.length != 1:
            if typ.prim in ('char', 'uint8', 'int8'):
                return ['memcpy(%s, %s, %d);' % (dst, src, typ.length)]
            sz = PRIMS[typ.prim][0]
            return ['for (unsigned i_ = 0; i_ < %d; i_++)' % typ.length,
                    '    dtx_sbe_store_%s(%s + %d * i_, %s[i_]);' % (self.suffix(typ), dst, sz, src)]
        if typ.prim == 'char':
            return ['dtx_sbe_store_u8(%s, (uint8_t)%s);' % (dst, src)]
        return ['dtx_sbe_store_%s(%s, %s);' % (self.suffix(typ), dst, src)]

    def gen_composite(self, t):
        n, N = snake(t.name), upper(t.name)
        self.w('/* composite %s%s */' % (t.name, ': ' + comment(t.description) if t.description else ''))
        self.w('#define %s_%s_SIZE %d' % (self.P, N, t.size))
        for m in t.members:
            self.w('#define %s_%s_%s_OFFSET %d' % (self.P, N, upper(m.name), m.offset))
        if t.is_var_data:
            self.w()
            return
        self.w('typedef struct %s_%s {' % (self.p, n))
        count = 0
        for m in t.members:
            if getattr(m.type, 'presence', 'required') == 'constant':
                continue
            self.w('    ' + self.member_decl(m.name, m.type))
            count += 1
        if count == 0:
            self.w('    uint8_t unused_;')
        self.w('} %s_%s;' % (self.p, n))
        self.w('static inline void %s_%s_decode(const uint8_t *p, %s_%s *out)' % (self.p, n, self.p, n))
        self.w('{')
        self.w('    (void)p;')
        self.w('    (void)out;')
        for m in t.members:
            if getattr(m.type, 'presence', 'required') == 'constant':
                continue
            for line in self.load_stmt('out->%s' % ident(m.name), m.type, 'p + %d' % m.offset):
                self.w('    ' + line)
        self.w('}')
        self.w('static inline void %s_%s_encode(uint8_t *p, const %s_%s *in)' % (self.p, n, self.p, n))
        self.w('{')
        self.w('    (void)p;')
        self.w('    (void)in;')
        if any(True for _ in self.gaps(t.members, t.size)):
            self.w('    memset(p, 0, %d);' % t.size)
        for m in t.members:
            if getattr(m.type, 'presence', 'required') == 'constant':
                continue
            for line in self.store_stmt(m.type, 'p + %d' % m.offset, 'in->%s' % ident(m.name)):
                self.w('    ' + line)
        self.w('}')
        self.w()

    @staticmethod
    def gaps(members, size):
        pos = 0
        for m in members:
            s = m.type.size
            if s == 0:
                continue
            if m.offset != pos:
                yield (pos, m.offset)
            pos = m.offset + s
        if pos != size:
            yield (pos, size)

    def gen_message(self, m):
        p, P = self.p, self.P
        n, N = snake(m.name), upper(m.name)
        mp, MP = '%s_%s' % (p, n), '%s_%s' % (P, N)
        self.w('/* ' + '-' * 72)
        self.w(' * %s (template %d)%s' % (m.name, m.id, ', FIX MsgType ' + m.semantic if m.semantic else ''))
        if m.description:
            self.w(' * ' + comment(m.description))
        self.w(' */')
        self.w('#define %s_TEMPLATE_ID %d' % (MP, m.id))
        self.w('#define %s_BLOCK_LENGTH %d' % (MP, m.block_length))
        self.w('#define %s_SINCE_VERSION %d' % (MP, m.since))
        self.w('#define %s_NAME "%s"' % (MP, m.name))
        self.w('#define %s_VAR_COUNT %d' % (MP, len(m.var)))
        for f in m.fields:
            F = '%s_%s' % (MP, upper(f.name))
            self.w('#define %s_TAG %d' % (F, f.id))
            if f.presence == 'constant':
                val = f.const
                if isinstance(val, int):
                    self.w('#define %s_VALUE %d' % (F, val))
                else:
                    self.w('#define %s_VALUE "%s"' % (F, str(val).replace('"', '\\"')))
                continue
            self.w('#define %s_OFFSET %d' % (F, f.offset))
            self.w('#define %s_SIZE %d' % (F, f.size))
            if f.type.kind == 'encoded' and f.type.length != 1:
                self.w('#define %s_LENGTH %d' % (F, f.type.length))
            if f.since:
                self.w('#define %s_SINCE_VERSION %d' % (F, f.since))
            nl = self.null_literal(f.type, f.presence)
            if nl is not None:
                self.w('#define %s_NULL %s' % (F, nl))
        for i, v in enumerate(m.var):
            V = '%s_%s' % (MP, upper(v.name))
            self.w('#define %s_TAG %d' % (V, v.id))
            self.w('#define %s_MAX %d' % (V, v.max))
            self.w('#define %s_LENGTH_SIZE %d' % (V, v.len_size))
            self.w('#define %s_VAR_INDEX %d' % (V, i))
        self.w()

        # struct
        self.w('typedef struct %s {' % mp)
        count = 0
        for f in m.fields:
            if f.presence == 'constant':
                continue
            d = comment(f.description)
            self.w('    %s%s' % (self.member_decl(f.name, f.type), ('  /* %s */' % d) if d else ''))
            count += 1
        for v in m.var:
            ptr = 'const char *' if v.text else 'const uint8_t *'
            self.w('    %s%s;  /* var data: into the decoded buffer / the bytes to encode */' % (ptr, ident(v.name)))
            self.w('    %s %s_length;' % (PRIMS[v.len_prim][1], snake(v.name)))
            count += 1
        if count == 0:
            self.w('    uint8_t unused_;')
        self.w('} %s;' % mp)
        self.w()

        # accessors
        for f in m.fields:
            if f.presence == 'constant':
                continue
            fn = snake(f.name)
            t = f.type
            if t.kind == 'composite':
                ct = self.ctype(t)
                self.w('static inline void %s_get_%s(const uint8_t *block, %s *out) { %s_%s_decode(block + %d, out); }'
                       % (mp, fn, ct, p, snake(t.name), f.offset))
                self.w('static inline void %s_put_%s(uint8_t *block, const %s *v) { %s_%s_encode(block + %d, v); }'
                       % (mp, fn, ct, p, snake(t.name), f.offset))
            elif t.kind == 'encoded' and t.length != 1:
                ct = self.ctype(t)
                self.w('static inline void %s_get_%s(const uint8_t *block, %s out[%d])' % (mp, fn, ct, t.length))
                self.w('{')
                for line in self.load_stmt('out', t, 'block + %d' % f.offset):
                    self.w('    ' + line)
                self.w('}')
                self.w('static inline void %s_put_%s(uint8_t *block, const %s v[%d])' % (mp, fn, ct, t.length))
                self.w('{')
                for line in self.store_stmt(t, 'block + %d' % f.offset, 'v'):
                    self.w('    ' + line)
                self.w('}')
            else:
                ct = self.ctype(t)
                if t.kind == 'encoded' and t.prim == 'char':
                    self.w('static inline char %s_get_%s(const uint8_t *block) { return (char)dtx_sbe_load_u8(block + %d); }'
                           % (mp, fn, f.offset))
                    self.w('static inline void %s_put_%s(uint8_t *block, char v) { dtx_sbe_store_u8(block + %d, (uint8_t)v); }'
                           % (mp, fn, f.offset))
                else:
                    sfx = self.suffix(t)
                    self.w('static inline %s %s_get_%s(const uint8_t *block) { return dtx_sbe_load_%s(block + %d); }'
                           % (ct, mp, fn, sfx, f.offset))
                    self.w('static inline void %s_put_%s(uint8_t *block, %s v) { dtx_sbe_store_%s(block + %d, v); }'
                           % (mp, fn, ct, sfx, f.offset))
        self.w()

        # block length by version
        versions = sorted(set([f.since for f in m.fields] + [0]))
        self.w('/* Root block a sender of `version` writes (a receiver needs at least this much). */')
        self.w('static inline uint16_t %s_block_length_at(uint16_t version)' % mp)
        self.w('{')
        self.w('    (void)version;')
        for v in reversed(versions[1:]):
            self.w('    if (version < %d)' % v)
            self.w('        return %d;' % m.block_length_at(v - 1))
        self.w('    return %s_BLOCK_LENGTH;' % MP)
        self.w('}')
        self.w('static inline const char *%s_var_name(int index)' % mp)
        self.w('{')
        self.w('    switch (index) {')
        for i, v in enumerate(m.var):
            self.w('    case %d: return "%s";' % (i, v.name))
        self.w('    default: return "?";')
        self.w('    }')
        self.w('}')
        self.w()

        # encode
        self.w('/* Encodes the root block (BLOCK_LENGTH bytes, gaps zeroed) and the var data')
        self.w(' * of m into buf, without the SBE header. Returns the bytes written; -1 when')
        self.w(' * cap is too small (nothing written); -(2 + i) when var data field i is')
        self.w(' * longer than its MAX or has a length but no bytes. */')
        self.w('static inline ptrdiff_t %s_encode(uint8_t *buf, size_t cap, const %s *m)' % (mp, mp))
        self.w('{')
        self.w('    size_t need = %d;' % m.block_length)
        self.w('    (void)buf;')
        self.w('    (void)m;')
        for i, v in enumerate(m.var):
            vn = snake(v.name)
            self.w('    if ((uint64_t)m->%s_length > %d || (m->%s_length && !m->%s))' % (vn, v.max, vn, ident(v.name)))
            self.w('        return -%d;' % (2 + i))
            self.w('    need += %d + (size_t)m->%s_length;' % (v.len_size, vn))
        self.w('    if (cap < need)')
        self.w('        return -1;')
        if m.has_gaps():
            self.w('    memset(buf, 0, %d);' % m.block_length)
        for f in m.fields:
            if f.presence == 'constant':
                continue
            for line in self.store_stmt(f.type, 'buf + %d' % f.offset, 'm->%s' % ident(f.name)):
                self.w('    ' + line)
        self.w('    size_t pos = %d;' % m.block_length)
        for v in m.var:
            vn = snake(v.name)
            self.w('    dtx_sbe_store_%s(buf + pos, m->%s_length);' % (PRIMS[v.len_prim][2], vn))
            self.w('    pos += %d;' % v.len_size)
            self.w('    if (m->%s_length)' % vn)
            self.w('        memcpy(buf + pos, m->%s, m->%s_length);' % (ident(v.name), vn))
            self.w('    pos += m->%s_length;' % vn)
        self.w('    return (ptrdiff_t)pos;')
        self.w('}')
        self.w()

        # decode
        self.w('/* Decodes a body (root block of block_length bytes, from the SBE header,')
        self.w(' * then var data) from the len bytes at buf. Fields added after')
        self.w(' * acting_version read as null (optional) or 0; root fields this schema does')
        self.w(' * not know are skipped by block_length. Var data pointers point into buf.')
        self.w(' * Returns the bytes used (block_length + var data); -1 when block_length is')
        self.w(' * below the root block of acting_version or overruns len; -(2 + i) when var')
        self.w(' * data field i overruns len or exceeds its MAX. */')
        self.w('static inline ptrdiff_t %s_decode(const uint8_t *buf, size_t len, uint16_t block_length,'
               % mp)
        self.w('                                  uint16_t acting_version, %s *m)' % mp)
        self.w('{')
        self.w('    (void)acting_version;')
        self.w('    (void)buf;')
        self.w('    (void)m;')
        self.w('    if (block_length < %s_block_length_at(acting_version) || len < block_length)' % mp)
        self.w('        return -1;')
        for f in m.fields:
            if f.presence == 'constant':
                continue
            dst = 'm->%s' % ident(f.name)
            lines = self.load_stmt(dst, f.type, 'buf + %d' % f.offset)
            if f.since:
                self.w('    if (acting_version >= %d) {' % f.since)
                for line in lines:
                    self.w('        ' + line)
                self.w('    } else {')
                nl = self.null_literal(f.type, f.presence)
                if nl is not None:
                    self.w('        %s = %s;' % (dst, nl))
                else:
                    self.w('        memset(&%s, 0, sizeof %s);' % (dst, dst))
                self.w('    }')
            else:
                for line in lines:
                    self.w('    ' + line)
        self.w('    size_t pos = block_length;')
        for i, v in enumerate(m.var):
            vn = snake(v.name)
            lt = PRIMS[v.len_prim]
            if v.since:
                self.w('    m->%s = NULL;' % ident(v.name))
                self.w('    m->%s_length = 0;' % vn)
                self.w('    if (acting_version >= %d) {' % v.since)
                ind = '        '
            else:
                ind = '    '
                self.w('    {')
            self.w(ind + 'if (len - pos < %d)' % v.len_size)
            self.w(ind + '    return -%d;' % (2 + i))
            self.w(ind + '%s n_ = dtx_sbe_load_%s(buf + pos);' % (lt[1], lt[2]))
            self.w(ind + 'pos += %d;' % v.len_size)
            self.w(ind + 'if ((uint64_t)n_ > %d || len - pos < n_)' % v.max)
            self.w(ind + '    return -%d;' % (2 + i))
            cast = '(const char *)' if v.text else ''
            self.w(ind + 'm->%s = %s(buf + pos);' % (ident(v.name), cast))
            self.w(ind + 'm->%s_length = n_;' % vn)
            self.w(ind + 'pos += n_;')
            self.w('    }')
        self.w('    return (ptrdiff_t)pos;')
        self.w('}')
        self.w()

    def ordered_composites(self):
        """Named composites, each after the composites it contains."""
        done, order = set(), []

        def visit(t):
            if t.kind != 'composite' or id(t) in done:
                return
            done.add(id(t))
            for m in t.members:
                visit(m.type)
            order.append(t)
        for name in self.s.types:
            visit(self.s.types[name])
        return order

    def generate(self):
        s, P, p = self.s, self.P, self.p
        guard = '%s_H' % P
        self.w('/*')
        self.w(' * Generated by tools/sbegen.py from %s: do not edit.' % self.src)
        self.w(' * SBE schema %d version %d%s%s.' % (s.id, s.version, ', package ' + s.package if s.package else '',
                                                    ': ' + comment(s.description) if s.description else ''))
        self.w(' * Little-endian, memcpy-based loads and stores: any alignment.')
        self.w(' */')
        self.w('#ifndef %s' % guard)
        self.w('#define %s' % guard)
        self.w()
        self.w('#include <float.h>')
        self.w('#include <math.h>')
        self.w('#include <stddef.h>')
        self.w('#include <stdint.h>')
        self.w('#include <string.h>')
        self.w()
        self.w('#ifdef __cplusplus')
        self.w('extern "C" {')
        self.w('#endif')
        self.w(HELPERS)
        self.w('#define %s_SCHEMA_ID %d' % (P, s.id))
        self.w('#define %s_SCHEMA_VERSION %d' % (P, s.version))
        self.w('#define %s_HEADER_SIZE %d' % (P, s.header.size))
        self.w()
        for name, t in s.types.items():
            if t.kind == 'enum':
                self.gen_enum(t)
            elif t.kind == 'set':
                self.gen_set(t)
            elif t.kind == 'encoded':
                N = upper(name)
                if t.presence == 'constant':
                    if isinstance(t.const, int):
                        self.w('#define %s_%s_VALUE %d' % (P, N, t.const))
                    else:
                        self.w('#define %s_%s_VALUE "%s"' % (P, N, str(t.const).replace('"', '\\"')))
                    continue
                if t.length != 1:
                    self.w('#define %s_%s_LENGTH %d' % (P, N, t.length))
                if t.null is not None:
                    self.w('#define %s_%s_NULL %s' % (P, N, c_int_literal(t.prim, t.null) if t.prim not in ('float', 'double') else repr(t.null)))
                if t.min_value is not None:
                    self.w('#define %s_%s_MIN %s' % (P, N, c_int_literal(t.prim, t.min_value)))
                if t.max_value is not None:
                    self.w('#define %s_%s_MAX %s' % (P, N, c_int_literal(t.prim, t.max_value)))
        self.w()
        for t in self.ordered_composites():
            self.gen_composite(t)

        # header helpers
        h = snake(s.header.name)
        self.w('/* Writes the SBE header of a message of this schema (its id and version). */')
        self.w('static inline void %s_encode_header(uint8_t *p, uint16_t block_length, uint16_t template_id)' % p)
        self.w('{')
        self.w('    %s_%s hdr = {block_length, template_id, %s_SCHEMA_ID, %s_SCHEMA_VERSION};' % (p, h, P, P))
        self.w('    %s_%s_encode(p, &hdr);' % (p, h))
        self.w('}')
        self.w()

        for m in s.messages:
            self.gen_message(m)

        self.w('/* Every message: X(id, Name, snake_name, UPPER_NAME, blockLength, sinceVersion, varCount) */')
        self.w('#define %s_MESSAGES(X) \\' % P)
        for m in s.messages:
            self.w('    X(%d, %s, %s, %s, %d, %d, %d) \\' % (m.id, m.name, snake(m.name), upper(m.name),
                                                            m.block_length, m.since, len(m.var)))
        self.w('    /* end */')
        self.w('#define %s_MESSAGE_COUNT %d' % (P, len(s.messages)))
        self.w()
        self.w('#ifdef __cplusplus')
        self.w('}')
        self.w('#endif')
        self.w('#endif /* %s */' % guard)
        return '\n'.join(self.out) + '\n'


def main(argv=None):
    ap = argparse.ArgumentParser(description='Generate a C codec header from an SBE 1.0 XML schema.')
    ap.add_argument('schema')
    ap.add_argument('-o', '--output', required=True)
    ap.add_argument('--prefix', help='C prefix (default dtx_sbe<schema id>)')
    args = ap.parse_args(argv)
    try:
        schema = Schema(args.schema)
        prefix = args.prefix or 'dtx_sbe%d' % schema.id
        if not re.match(r'^[A-Za-z_][A-Za-z0-9_]*$', prefix):
            raise SchemaError('prefix %s is not a C identifier' % prefix)
        text = Gen(schema, prefix, os.path.basename(args.schema)).generate()
    except SchemaError as e:
        sys.stderr.write('sbegen: %s: %s\n' % (args.schema, e))
        return 1
    out_dir = os.path.dirname(os.path.abspath(args.output))
    os.makedirs(out_dir, exist_ok=True)
    # Write to a temporary file and rename: a failed run never leaves half a header.
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix='.sbegen-')
    with os.fdopen(fd, 'w') as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, args.output)
    return 0


if __name__ == '__main__':
    sys.exit(main())
