"""Refuse forms that ask for a direct identifier.

SAMEN's analytic forms know a participant only by a pseudonymous code. A
field that asks for a name, phone number, address, BSN/V-number, date of
birth, e-mail address or a free-text location would undo that, so the build
(`samen forms build`) and the server's publish gate both run this linter and
fail on any finding that is not on the reviewed allow-list.

The linter judges each *answerable* field of a compiled XForm:
* free-entry fields (text, numbers, barcodes, uploads) by their name and by
  their label in every language;
* date fields only for a date of birth;
* geopoint/geotrace/geoshape always (a GPS position is a location);
* the `phonenumber` metadata, which reads the phone's own number.
Notes, calculates and closed choice lists (select one/multiple) cannot
capture a free identifier and are skipped. Hints are not read: that is
where forms tell people *not* to write names.

`lint_xform` is pure (bytes in, findings out), so the publish code can call
it on any uploaded form; `lint_xlsform_source` compiles a source first and
names the survey-sheet row of each finding.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from samen.safexml import child, local_name, parse_xml

CATEGORY_DESCRIPTIONS = {
    "name": "a person's name",
    "phone": "a phone number",
    "email": "an e-mail address",
    "address": "an address",
    "id_number": "an identity number (BSN, V-number, passport or ID)",
    "date_of_birth": "a date of birth",
    "location": "a location",
}

# Label patterns per category, over lower-cased text in all seven form languages.
# Arabic, Farsi and Tigrinya words take prefixes and suffixes, so their
# patterns anchor on "not preceded by a letter of the same script" instead of \b.
_AR = "\u0600-\u06ff\u200c"  # Arabic script letters and the zero-width non-joiner Farsi uses inside words
_ET = "\u1200-\u137f"  # Ethiopic (Tigrinya)
_LABEL_PATTERNS: dict[str, tuple[str, ...]] = {
    "name": (
        r"\b(first|last|family|given|full|middle|maiden|nick|sur|fore)?\s?names?\b",
        r"\b(voor|achter|familie|roep|meisjes)?(naam|namen)\b",
        r"\b(adınız|adın|adı|soyad\w*|isim|ismi\w*)\b",
        r"ім['’ʼ]?я|імені|прізвищ",
        rf"(?<![{_AR}])(ال|و|ب)?[اأ]سم",
        r"لقب|اسم العائلة",
        rf"(?<![{_AR}])نام(?!ه)",
        rf"(?<![{_ET}])(ሽም|ስም|ኣስማት)(ኩም|ኪ|ካ|ክን|ኺ|ኻ|ይ|ኩን)?(?![{_ET}])",
    ),
    "phone": (
        r"\b(tele)?phone\b|\bmobile\b|\bcell\s?phone|\bwhats\s?app\b",
        r"\b(telefoon|mobiel|06-?nummer)\w*",
        r"\btelefon\w*|\bcep numara\w*",
        r"\bтелефон\w*|\bмобільн\w*",
        r"هاتف|جوال|موبايل|تلفون|تلفن|شماره تماس",
        r"ተሌፎን|ስልኪ|ሞባይል",
    ),
    "email": (r"\be-?mail\w*", r"\bимейл|\bелектронн\w* пошт\w*", r"البريد الإلكتروني|ایمیل|پست الکترونیک"),
    "address": (
        r"\baddress\w*|\bstreet\b|\b(post|zip)\s?code\b|\bhouse number\b",
        r"\badres\w*|\bstraat\w*|\bhuisnummer\b",
        r"\bsokak\b|\bposta kodu\b",
        r"\bадрес\w*|\bвулиц\w*|\bпоштов\w* індекс",
        r"عنوان|الشارع|الرمز البريدي|آدرس|نشانی|کد پستی|خیابان",
        r"ኣድራሻ",
    ),
    "id_number": (
        r"\bbsn\b|burgerservicenummer|\bv-?num(m)?er\b|vreemdelingennummer|\bcitizen service number\b",
        r"\bsocial security\b|\bpass?(port|poort)\w*|\bid[- ]?(number|nummer|card|kaart)\b|identiteitsbewijs",
        r"\bkimlik\w*|\bpasaport\w*|\bпаспорт\w*|\bпосвідчен\w*",
        r"جواز السفر|رقم الهوية|بطاقة الهوية|گذرنامه|پاسپورت|شماره شناسایی|کارت شناسایی",
        r"ፓስፖርት|መንነት",
    ),
    "date_of_birth": (
        r"\bdate of birth\b|\bbirth\s?date\b|\bbirthday\b|\bborn\b",
        r"geboortedatum|\bgeboren\b|\bverjaardag\b",
        r"doğum tarih\w*|doğum gün\w*|doğduğunuz",
        r"дат\w* народження|день народження|народил\w*",
        r"تاريخ (الميلاد|ولادت\w*)|ميلادك|تاریخ تولد",
        r"ዕለተ ልደት|ዕለት ልደት|ዝተወለድኩም",
    ),
    "location": (
        r"\blocation\b|\bwhere (do|does|did) (you|they|she|he) (live|stay|sleep)\b|\bgps\b|\bcoordinates?\b",
        r"\bplace of residence\b|\bwhere are you (now|staying)\b",
        r"\blocatie\b|\bwaar (woon|verblijf|slaap)\w*|\b(verblijf|woon)plaats\b",
        r"\bkonum\w*|nerede (yaşıyor|kalıyor)\w*",
        r"\bмісцезнаходжен\w*|\bлокаці\w*|де ви (живете|проживаєте|зупинилися)",
        r"موقع|أين (تسكن|تعيش)\w*|مكان (الإقامة|السكن)|کجا زندگی|محل (سکونت|زندگی)",
        r"ኣበይ ትነብሩ|መንበሪ ቦታ|ቦታ መንበሪ",
    ),
}
_LABEL_RES = {category: re.compile("|".join(f"(?:{p})" for p in patterns)) for category, patterns in _LABEL_PATTERNS.items()}

# Field names: whole tokens, and longer words anywhere in the joined name (date_of_birth → dateofbirth).
_NAME_TOKENS = {
    "name": {"name", "names", "firstname", "lastname", "surname", "fullname", "forename", "naam", "voornaam", "achternaam"},
    "phone": {"phone", "telephone", "tel", "mobile", "gsm", "whatsapp", "telefoon", "mobiel", "cell"},
    "email": {"email", "mail"},
    "address": {"address", "adres", "street", "straat", "postcode", "zipcode", "zip", "huisnummer"},
    "id_number": {"bsn", "vnumber", "vnummer", "passport", "paspoort", "ssn", "nationalid", "idnumber"},
    "date_of_birth": {"dob", "birthdate", "birthday", "geboortedatum"},
    "location": {"location", "locatie", "gps", "coordinates", "coords", "whereabouts", "residence", "woonplaats", "verblijfplaats"},
}
_NAME_JOINED = {
    "name": ("firstname", "lastname", "fullname", "familyname", "givenname", "voornaam", "achternaam"),
    "phone": ("phonenumber", "telephone", "telefoonnummer", "mobilenumber"),
    "email": ("emailaddress",),
    "address": ("homeaddress", "streetname", "housenumber", "postcode", "zipcode"),
    "id_number": ("vnumber", "vnummer", "idnumber", "passportnumber", "burgerservicenummer"),
    "date_of_birth": ("dateofbirth", "birthdate", "geboortedatum"),
    "location": ("gpslocation", "homelocation", "currentlocation"),
}

_FREE_ENTRY_TYPES = {"string", "int", "integer", "decimal", "barcode", "binary", ""}
_DATE_TYPES = {"date", "datetime", "dateTime"}
_GEO_TYPES = {"geopoint", "geotrace", "geoshape"}
_CLOSED_CONTROLS = {"select1", "select", "rank", "trigger"}
_ANSWERABLE_CONTROLS = {"input", "upload", "range", "textarea"} | _CLOSED_CONTROLS


@dataclass(frozen=True)
class IdentifierFinding:
    """A field that asks for a direct identifier."""

    form_id: str
    field_path: str
    category: str
    reason: str
    row: int | None = None

    @property
    def field_name(self) -> str:
        return self.field_path.rsplit("/", 1)[-1]

    @property
    def message(self) -> str:
        where = f" (survey sheet row {self.row})" if self.row else ""
        return (
            f"{self.form_id}: field '{self.field_name}'{where} at {self.field_path} asks for "
            f"{CATEGORY_DESCRIPTIONS[self.category]}: {self.reason}. Ask for the pseudonymous code instead, "
            f"or add a reviewed line (form_id, field, reason) to the identifier allow-list."
        )


@dataclass(frozen=True)
class IdentifierAllowlist:
    """Reviewed exceptions: (form_id, field name or path) → why the field may stay."""

    entries: dict[tuple[str, str], str] = field(default_factory=dict)

    def allows(self, form_id: str, field_path: str) -> bool:
        name = field_path.rsplit("/", 1)[-1]
        return (form_id, name) in self.entries or (form_id, field_path) in self.entries

    @classmethod
    def from_csv(cls, text: str) -> IdentifierAllowlist:
        """Parse `form_id,field,reason` rows; a row without a reason is refused (it was never reviewed)."""
        entries: dict[tuple[str, str], str] = {}
        for line_number, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
            form_id, field_name, reason = ((row.get(key) or "").strip() for key in ("form_id", "field", "reason"))
            if not (form_id and field_name and reason):
                raise ValueError(f"Identifier allow-list line {line_number}: form_id, field and reason are all required.")
            entries[(form_id, field_name)] = reason
        return cls(entries)

    @classmethod
    def load(cls, path: Path) -> IdentifierAllowlist:
        return cls.from_csv(path.read_text(encoding="utf-8")) if path.exists() else cls()


EMPTY_ALLOWLIST = IdentifierAllowlist()


def lint_xform(xform: bytes, allowlist: IdentifierAllowlist = EMPTY_ALLOWLIST) -> list[IdentifierFinding]:
    """Findings for every answerable field of a compiled XForm that asks for a direct identifier."""
    root = parse_xml(xform)
    model = _first(root, "model")
    if model is None:
        return []
    form_id = _form_id(model)
    binds = {bind.get("nodeset"): bind for bind in model.iter() if _is(bind, "bind") and bind.get("nodeset")}
    itext = _itext(model)
    findings: list[IdentifierFinding] = []
    for path, bind in binds.items():
        if (bind.get("{http://openrosa.org/javarosa}preloadParams") or "").lower() == "phonenumber":
            findings.append(IdentifierFinding(form_id, path, "phone", "it reads the phone's own number (phonenumber metadata)"))
    body = _first(root, "body")
    for control in body.iter() if body is not None else ():
        if not _is_control(control):
            continue
        path = control.get("ref") or control.get("nodeset") or ""
        bind = binds.get(path)
        if bind is not None and (bind.get("readonly") or "").replace(" ", "") == "true()":
            continue  # notes and other read-only fields cannot be answered
        finding = _judge(form_id, path, local_name(control), _bind_type(bind), _labels(control, itext))
        if finding is not None:
            findings.append(finding)
    return [finding for finding in findings if not allowlist.allows(finding.form_id, finding.field_path)]


def lint_xlsform_source(path: Path, allowlist: IdentifierAllowlist = EMPTY_ALLOWLIST) -> list[IdentifierFinding]:
    """Compile an XLSForm source (.md, .csv or .xlsx) without validating it, lint it and name each finding's row."""
    from pyxform.xls2json_backends import get_xlsform
    from pyxform.xls2xform import convert

    workbook = get_xlsform(str(path))
    xform = convert(str(path), pretty_print=False).xform.encode("utf-8")
    # The survey sheet's first row is the header, so the n-th question sits on row n + 2.
    rows = {(question.get("name") or "").strip(): number for number, question in enumerate(workbook.survey or [], start=2)}
    return [
        IdentifierFinding(f.form_id, f.field_path, f.category, f.reason, rows.get(f.field_name))
        for f in lint_xform(xform, allowlist)
    ]


def _judge(form_id: str, path: str, control: str, data_type: str, labels: dict[str, str]) -> IdentifierFinding | None:
    name = path.rsplit("/", 1)[-1]
    if control in _CLOSED_CONTROLS:
        return None
    if data_type in _GEO_TYPES:
        return IdentifierFinding(form_id, path, "location", f"its type {data_type} records a GPS position")
    if data_type in _DATE_TYPES:
        categories: tuple[str, ...] = ("date_of_birth",)
    elif data_type in _FREE_ENTRY_TYPES:
        categories = tuple(category for category in _LABEL_RES if category != "date_of_birth") + ("date_of_birth",)
    else:
        return None
    for category in categories:
        if _name_matches(name, category):
            return IdentifierFinding(form_id, path, category, f"its name '{name}' says so")
        for language, text in labels.items():
            match = _LABEL_RES[category].search(text)
            if match:
                return IdentifierFinding(form_id, path, category, f"its label in {language} mentions '{match.group(0).strip()}'")
    return None


def _name_matches(name: str, category: str) -> bool:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
    tokens = [token for token in re.split(r"[^a-z]+", spaced) if token]
    joined = "".join(tokens)
    return bool(_NAME_TOKENS[category].intersection(tokens)) or any(word in joined for word in _NAME_JOINED[category])


def _itext(model: etree._Element) -> dict[str, dict[str, str]]:
    texts: dict[str, dict[str, str]] = {}
    for translation in (element for element in model.iter() if _is(element, "translation")):
        language = translation.get("lang") or "default"
        for text in translation:
            if _is(text, "text") and text.get("id"):
                values = [value for value in text if _is(value, "value") and value.get("form") in (None, "long", "short")]
                joined = " ".join(" ".join(value.itertext()) for value in values)
                texts.setdefault(text.get("id"), {})[language] = _normalise(joined)
    return texts


def _labels(control: etree._Element, itext: dict[str, dict[str, str]]) -> dict[str, str]:
    label = child(control, "label")
    if label is None:
        return {}
    reference = re.fullmatch(r"\s*jr:itext\('([^']+)'\)\s*", label.get("ref") or "")
    if reference:
        return itext.get(reference.group(1), {})
    return {"the form": _normalise(" ".join(label.itertext()))}


def _normalise(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("ʼ", "'").split()).lower()


def _bind_type(bind: etree._Element | None) -> str:
    raw = (bind.get("type") if bind is not None else None) or ""
    return raw.split(":")[-1]


def _form_id(model: etree._Element) -> str:
    for instance in model:
        if _is(instance, "instance") and instance.get("id") is None:
            for data in instance:
                if isinstance(data.tag, str):
                    return data.get("id") or local_name(data)
    return "(unknown form)"


def _first(root: etree._Element, name: str) -> etree._Element | None:
    return next((element for element in root.iter() if _is(element, name)), None)


def _is(element: etree._Element, name: str) -> bool:
    return isinstance(element.tag, str) and local_name(element) == name


def _is_control(element: etree._Element) -> bool:
    return isinstance(element.tag, str) and local_name(element) in _ANSWERABLE_CONTROLS
