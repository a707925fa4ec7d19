"""Resource quantities as apimachinery's resource.Quantity parses and prints them.

parse('1.5Gi') -> Quantity(value=Fraction(1610612736), fmt='BinarySI');
str(q) is the canonical form the API server echoes back (Quantity.String /
CanonicalizeBytes): '0.5' -> '500m', '1536Mi' stays, '1000' -> '1k', '16e6' stays.
"""

import re
from fractions import Fraction

FORMAT_MSG = ("quantities must match the regular expression "
              "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
_SHAPE = re.compile(r'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$')
_NUMBER = re.compile(r'^([+-]?)([0-9]*)(?:\.([0-9]*))?$')
BINARY = {'Ki': 10, 'Mi': 20, 'Gi': 30, 'Ti': 40, 'Pi': 50, 'Ei': 60}
DECIMAL = {'n': -9, 'u': -6, 'm': -3, '': 0, 'k': 3, 'M': 6, 'G': 9, 'T': 12, 'P': 15, 'E': 18}
DECIMAL_SUFFIX = {v: k for k, v in DECIMAL.items()}
BINARY_SUFFIX = {v // 10: k for k, v in BINARY.items()}
NANO = Fraction(1, 10 ** 9)


class QuantityError(ValueError):
    pass


class Quantity:
    __slots__ = ('value', 'fmt')

    def __init__(self, value, fmt='DecimalSI'):
        self.value, self.fmt = Fraction(value), fmt

    def __str__(self):
        return canonical(self)

    def __repr__(self):
        return 'Quantity(%s)' % canonical(self)

    def __eq__(self, other):
        return isinstance(other, Quantity) and self.value == other.value

    def __lt__(self, other):
        return self.value < other.value

    def __le__(self, other):
        return self.value <= other.value

    def __hash__(self):
        return hash(self.value)

    def is_integer(self):
        return self.value.denominator == 1


def parse(text):
    """Parses a quantity string; raises QuantityError with the server's message."""
    if not isinstance(text, str):
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            text = repr(text)
        else:
            raise QuantityError(FORMAT_MSG)
    text = text.strip()
    m = _SHAPE.match(text)
    if not m or not text:
        raise QuantityError(FORMAT_MSG)
    num = _NUMBER.match(m.group(1))
    if not num or not (num.group(2) or num.group(3)):
        raise QuantityError(FORMAT_MSG)
    sign, whole, frac = num.group(1), num.group(2) or '0', num.group(3) or ''
    value = Fraction(int(whole + frac), 10 ** len(frac))
    suffix = m.group(2)
    if suffix in BINARY:
        value *= 2 ** BINARY[suffix]
        fmt = 'BinarySI'
    elif suffix in DECIMAL:
        value *= Fraction(10) ** DECIMAL[suffix]
        fmt = 'DecimalSI'
    elif suffix[:1] in ('e', 'E') and re.match(r'^[eE][-+]?[0-9]+$', suffix):
        value *= Fraction(10) ** int(suffix[1:])
        fmt = 'DecimalExponent'
    else:
        raise QuantityError(FORMAT_MSG)
    if sign == '-':
        value = -value
    if value % NANO:                       # finer than 1n: rounded up, as the server does
        value = (value // NANO + 1) * NANO if value > 0 else -((-value) // NANO) * NANO
    return Quantity(value, fmt)


def _decimal(value, fmt):
    exp = -9
    mant = value / Fraction(10) ** exp
    while exp < 18 and mant % 1000 == 0 and mant:
        mant //= 1000
        exp += 3
    mant = int(mant)
    if fmt == 'DecimalExponent':
        return '%d%s' % (mant, ('e%d' % exp) if exp else '')
    return '%d%s' % (mant, DECIMAL_SUFFIX[exp])


def canonical(q):
    v = q.value
    if v == 0:
        return '0'
    fmt = q.fmt
    if fmt == 'BinarySI':
        if -1024 < v < 1024 or v.denominator != 1:
            fmt = 'DecimalSI'
        else:
            n, k = int(v), 0
            while k < 6 and n % 1024 == 0:
                n //= 1024
                k += 1
            return '%d%s' % (n, BINARY_SUFFIX.get(k, ''))
    return _decimal(v, fmt)


def normalise(text):
    """The canonical string of a quantity string, or the string itself when invalid."""
    try:
        return str(parse(text))
    except QuantityError:
        return text
