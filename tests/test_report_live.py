"""End to end: a synthetic SAMEN data set with known truth, encrypted as Collect encrypts it, submitted over
OpenRosa to a live server; `samen report` must recover every indicator, hide small numbers, and render.

The truth is worked out in this file with plain Python (and SciPy's Wilcoxon for the p-value), never with
the report's own functions. The design of the data set is the truth for the counts: 120 adults across the
six cities (3 in Arnhem: below the threshold), 40 complete pre/post pairs with a known shift (half of the
post codes typed with case, hyphen and O/0, I/1 mix-ups), 8 pre only, 4 post only, 3 ambiguous codes and
2 codes with a wrong check character; intakes dated before the period that must not count.
"""

from __future__ import annotations

import base64
import csv
import math
import random
import statistics
import subprocess
import time
import uuid
from copy import deepcopy
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.serialization import load_der_public_key
from lxml import etree
from scipy import stats
from sqlalchemy import select

from conftest import REPO
from encryptor import encrypt_submission
from helpers import COLLECT_HEADERS, DEVICE_ID
from samen.config import settings_from_env
from samen.db import Database
from samen.models import AuditEvent
from samen.xform import read_xform

pytestmark = pytest.mark.live

PASSPHRASE = "a long passphrase for the report test"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXY"
CITIES = ("amsterdam", "arnhem", "den_haag", "nijmegen", "rotterdam", "utrecht")
ADULTS_PER_CITY = {"amsterdam": 30, "rotterdam": 28, "den_haag": 25, "utrecht": 22, "nijmegen": 12, "arnhem": 3}
XF = "{http://www.w3.org/2002/xforms}"
K_ITEMS = ("k_rights", "k_where_help", "k_veilig_thuis", "k_gp", "k_confidential")
A_ITEMS = ("a_help_ok", "a_equal_say", "a_never_ok", "a_support_friend", "a_respect_lgbtqi")
W_ITEMS = tuple(f"who5_{i}" for i in range(1, 6))
SE_ITEMS = ("se_recognise", "se_ask", "se_interpreter", "se_refer", "se_safety")
SATISFACTION = ("satisfaction", "felt_safe", "felt_respected", "useful", "understood", "language_ok")


def phone_code(rnd: random.Random) -> str:
    body = "".join(rnd.choice(ALPHABET) for _ in range(6))
    return body + ALPHABET[sum(i * ALPHABET.index(s) for i, s in enumerate(body, start=1)) % 31]


def mistyped(code: str) -> str:
    """How people write a code down: lower case, a hyphen, letters O and I/L for 0 and 1."""
    typed = code.lower().replace("0", "o").replace("1", "l")
    return f"{typed[:4]}-{typed[4:]}"


def shown(n: int) -> str:
    return "<5" if 0 < n < 5 else str(n)


def shown_breakdown(counts: list[int]) -> list[str]:
    """The suppression rule as the issue states it: 1..4 hidden; a lone hidden cell takes the smallest other
    non-zero cell (the first, on a tie) with it, shown as x, so that it cannot be worked out from the total."""
    cells = [shown(n) for n in counts]
    hidden = [i for i, cell in enumerate(cells) if cell == "<5"]
    others = [i for i, n in enumerate(counts) if n > 0 and i not in hidden]
    if len(hidden) == 1 and others:
        cells[min(others, key=lambda i: counts[i])] = "x"
    return cells


def mean_score(values: list[str]) -> float | None:
    numbers = [float(v) for v in values if v != "pna"]
    return sum(numbers) / len(numbers) if len(numbers) * 2 >= len(values) else None


class Dataset:
    """The submissions (form id, values) and the truth, built together from the design above."""

    def __init__(self) -> None:
        rnd = random.Random(2026)
        self.submissions: list[tuple[str, dict]] = []
        self.adult_codes: list[str] = []
        self.referrals: dict[str, int] = {}
        self.shared: dict[str, int] = {}
        self.referrals_by_city: dict[tuple[str, str], int] = {}
        index = 0
        for city, count in ADULTS_PER_CITY.items():
            for _ in range(count):
                code = phone_code(rnd)
                self.adult_codes.append(code)
                partners = (["veilig_thuis", "csg"] if index % 6 == 0 else ["huisarts_gza"] if index % 6 == 1
                            else ["lgbtqi_org"] if index % 40 == 2 else [])
                values = {"consent": "yes", "intake_date": f"2026-02-{index % 28 + 1:02d}", "city": city,
                          "target_group": "migrant_adult", "age_band": "18_24" if index % 4 == 0 else "35_49",
                          "safe_to_talk": "yes", "gender_identity": "woman" if index % 3 != 2 else "man",
                          "lgbtqi": "yes" if index % 10 == 0 else "no", "participant_code": code,
                          "referrals_made": " ".join(partners) or "none"}
                for partner in partners:
                    values[f"consent_share_{partner}"] = "yes" if index % 2 == 0 else "no"
                    self.referrals[partner] = self.referrals.get(partner, 0) + 1
                    self.shared[partner] = self.shared.get(partner, 0) + (index % 2 == 0)
                    self.referrals_by_city[(partner, city)] = self.referrals_by_city.get((partner, city), 0) + 1
                self.submissions.append(("samen_intake", values))
                index += 1
        # the first adult again, later and elsewhere: still one person, counted in their first city
        self.submissions.append(("samen_intake", {"consent": "yes", "intake_date": "2026-05-01", "city": "utrecht",
                                                  "target_group": "migrant_adult", "participant_code": self.adult_codes[0],
                                                  "referrals_made": "none"}))
        for _ in range(4):
            self.submissions.append(("samen_intake", {"consent": "yes", "intake_date": "2026-03-01", "city": "utrecht",
                                                      "target_group": "professional", "sector": "health_care",
                                                      "participant_code": phone_code(rnd), "referrals_made": "none"}))
        for _ in range(3):
            self.submissions.append(("samen_intake", {"consent": "no", "intake_date": "2026-03-02"}))
        for _ in range(5):  # before the period
            self.submissions.append(("samen_intake", {"consent": "yes", "intake_date": "2025-06-15", "city": "arnhem",
                                                      "target_group": "migrant_adult", "participant_code": phone_code(rnd),
                                                      "referrals_made": "veilig_thuis"}))
        self._participants()
        self._professionals()
        self._feedback()
        self._activities()

    def _prepost(self, code: str, phase: str, items: dict[str, str], city: str = "utrecht") -> None:
        self.submissions.append(("samen_prepost_participant", {
            "consent": "yes", "phase": phase, "city": city, "code_source": "card", "participant_code": code,
            "response_date": "2026-04-01" if phase == "pre" else "2026-06-01", **items}))

    def _participants(self) -> None:
        self.participant_scores: dict[str, list[tuple[float, float]]] = {"knowledge": [], "attitudes": [], "wellbeing": []}
        for i, code in enumerate(self.adult_codes[:40]):
            k_pre = [str(1 + (i + j) % 3) for j in range(5)]
            if i % 7 == 0:
                k_pre[3] = "pna"
            k_post = [v if v == "pna" else str(int(v) + (0, 1, 1, 2)[i % 4]) for v in k_pre]
            a_pre = [2 + (i + j) % 3 for j in range(5)]
            a_post = [v + i % 2 for v in a_pre]
            w_pre = [(i + j) % 4 for j in range(5)]
            w_post = [v + (i % 3 == 0) for v in w_pre]
            pre = {**dict(zip(K_ITEMS, k_pre)), **dict(zip(A_ITEMS, map(str, a_pre))), **dict(zip(W_ITEMS, map(str, w_pre)))}
            post = {**dict(zip(K_ITEMS, k_post)), **dict(zip(A_ITEMS, map(str, a_post))), **dict(zip(W_ITEMS, map(str, w_post)))}
            self._prepost(code, "pre", pre)
            self._prepost(mistyped(code) if i % 2 == 0 else code, "post", post)
            self.participant_scores["knowledge"].append((mean_score(k_pre), mean_score(k_post)))
            self.participant_scores["attitudes"].append((sum(a_pre) / 5, sum(a_post) / 5))
            self.participant_scores["wellbeing"].append((sum(w_pre) * 4, sum(w_post) * 4))
        neutral = {item: "3" for item in K_ITEMS + A_ITEMS}
        for code in self.adult_codes[40:46]:  # pre only
            self._prepost(code, "pre", neutral)
        for code in self.adult_codes[46:50]:  # post only
            self._prepost(code, "post", neutral)
        for code in self.adult_codes[50:52]:  # two pres and a post: ambiguous
            self._prepost(code, "pre", neutral)
            self._prepost(code.lower(), "pre", neutral)
            self._prepost(code, "post", neutral)
        code = self.adult_codes[52]  # a pre and two posts: ambiguous
        self._prepost(code, "pre", neutral)
        self._prepost(code, "post", neutral)
        self._prepost(mistyped(code), "post", neutral)
        for code in self.adult_codes[53:55]:  # a pre, and a post whose check character is wrong
            self._prepost(code, "pre", neutral)
            wrong = ALPHABET[(ALPHABET.index(code[-1]) + 1) % 31]
            self._prepost(code[:-1] + wrong, "post", neutral)

    def _professionals(self) -> None:
        sectors = ["health_care"] * 5 + ["police_justice"] * 4 + ["reception"] * 3
        self.professional_scores: list[tuple[float, float]] = []
        for i, sector in enumerate(sectors):
            code = f"{'ABCDEFGHJKLM'[i]}{'NPRSTVWXYZQK'[i]}{i % 12 + 1:02d}{i % 10}"
            pre = [1 + (i + j) % 3 for j in range(5)]
            post = [v + (1, 2)[i % 2] for v in pre]
            city = "amsterdam" if i < 7 else "rotterdam"
            for phase, values, typed in (("pre", pre, code), ("post", post, f"{code[:2].lower()} {code[2:]}")):
                self.submissions.append(("samen_prepost_professional", {
                    "consent": "yes", "phase": phase, "self_code": typed, "city": city, "sector": sector,
                    "response_date": "2026-03-10" if phase == "pre" else "2026-03-11",
                    **dict(zip(SE_ITEMS, map(str, values)))}))
            self.professional_scores.append((sum(pre) / 5, sum(post) / 5))
        for code in ("QQ011", "RR022"):
            self.submissions.append(("samen_prepost_professional", {
                "consent": "yes", "phase": "pre", "self_code": code, "city": "den_haag", "sector": "education",
                "response_date": "2026-03-10", **{item: "3" for item in SE_ITEMS}}))

    def _feedback(self) -> None:
        self.feedback: list[dict] = []
        for s in range(12):
            for r in range(5):
                values = {"consent": "yes", "session_date": f"2026-03-{s + 1:02d}", "city": CITIES[s % 6],
                          "session_type": ("psychosocial_group", "training", "information_session")[s % 3],
                          "recommend": ("yes", "yes", "maybe", "no", "yes")[r],
                          "improve": "Ask Fatima to open the window"}
                for j, item in enumerate(SATISFACTION):
                    values[item] = ("5", "4", "5", "3", "pna", "4", "2")[(s + r + j) % 7]
                self.feedback.append(values)
                self.submissions.append(("samen_session_feedback", values))

    def _activities(self) -> None:
        self.activities = [{"activity_date": f"2026-02-{a + 1:02d}", "city": CITIES[a % 6],
                            "activity_type": "outreach" if a % 2 else "info_session",
                            "reached_migrant_adults": str(10 + a), "reached_women": "5", "reached_young_adults": "2",
                            "reached_professionals": str(a % 3), "referrals_count": "1"} for a in range(10)]
        self.submissions += [("samen_ambassador_activity", values) for values in self.activities]


def filled_instance(form_xml: bytes, values: dict, instance_id: str) -> bytes:
    """The form's primary instance with these values, as Collect saves it (unanswered fields empty)."""
    model = etree.fromstring(form_xml).find(f".//{XF}model")
    data = deepcopy(next(child for child in model.find(f"{XF}instance") if isinstance(child.tag, str)))
    for element in data.iter():
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        if name == "instanceID":
            element.text = instance_id
        elif name in values and len(element) == 0:
            element.text = values[name]
    return etree.tostring(data, xml_declaration=True, encoding="UTF-8")


@pytest.fixture
def reported(live_server, tmp_path):
    """Set up the project as an operator would, submit the data set from a 'phone', and run the report."""
    dataset = Dataset()
    project_id = live_server.cli("project", "create", "SAMEN").stdout.strip()
    created = live_server.cli("key", "create", "--project", project_id, input=PASSPHRASE + "\n")
    assert created.returncode == 0, created.stderr
    forms = sorted((REPO / "forms").glob("samen_*.xml"))
    logged = [path for path in forms if path.stem == "samen_ambassador_activity"]  # holds no personal data
    published = live_server.cli("form", "publish", "--project", project_id, *map(str, set(forms) - set(logged)))
    assert published.returncode == 0, published.stderr
    published = live_server.cli("form", "publish", "--project", project_id, "--no-encrypt", *map(str, logged))
    assert published.returncode == 0, published.stderr
    phone = live_server.cli("app-user", "create", "--project", project_id,
                            *[arg for path in forms for arg in ("--form", path.stem)], "Ambassador phone")
    url = next(line.split(": ", 1)[1] for line in phone.stdout.splitlines() if line.startswith("Collect server URL"))

    http = requests.Session()
    http.headers.update(COLLECT_HEADERS)
    form_list = etree.fromstring(http.get(f"{url}/formList", params={"deviceID": DEVICE_ID}).content)
    downloads = {entry.findtext("{*}formID"): http.get(entry.findtext("{*}downloadUrl")).content
                 for entry in form_list.iter("{*}xform")}
    for form_id, values in dataset.submissions:
        form_xml = downloads[form_id]
        facts = read_xform(form_xml)
        instance_id = f"uuid:{uuid.uuid4()}"
        xml = filled_instance(form_xml, values, instance_id)
        parts = [("xml_submission_file", ("submission.xml", xml, "text/xml"))]
        if facts.public_key:
            key = load_der_public_key(base64.b64decode(facts.public_key))
            envelope, files = encrypt_submission(key, form_id, facts.version, instance_id, xml, [])
            parts = [("xml_submission_file", ("submission.xml", envelope, "text/xml"))]
            parts += [(name, (name, data, "application/octet-stream")) for name, data in files.items()]
        response = http.post(f"{url}/submission", params={"deviceID": DEVICE_ID}, files=parts)
        assert response.status_code == 201, response.text

    out = tmp_path / "exports"
    started = time.monotonic()
    result = live_server.cli("report", "--project", project_id, "--from", "2026-01-01", "--lang", "en",
                             "--passphrase-stdin", "--out", str(out), input=PASSPHRASE + "\n")
    assert result.returncode == 0, result.stderr
    print(f"report written in {time.monotonic() - started:.1f}s")  # noqa: T201 (shown with -s)
    return dataset, out, live_server


def read_table(out: Path, key: str) -> dict[str, list[str]]:
    (path,) = out.glob(f"*-{key}.csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    return {row[0]: row[1:] for row in rows[1:]}


def numbers(cell: str) -> list[float]:
    return [float(part.replace("+", "")) for part in cell.split(" \u2026 ")]


def check_change(row: list[str], pairs: list[tuple[float, float]]) -> None:
    pre, post = [p for p, _ in pairs], [q for _, q in pairs]
    differences = [q - p for p, q in pairs]
    mean = statistics.fmean(differences)
    half = stats.t.ppf(0.975, len(pairs) - 1) * statistics.stdev(differences) / math.sqrt(len(pairs))
    assert row[0] == str(len(pairs))
    assert numbers(row[1])[0] == pytest.approx(statistics.fmean(pre), abs=0.005)
    assert numbers(row[2])[0] == pytest.approx(statistics.fmean(post), abs=0.005)
    assert numbers(row[3])[0] == pytest.approx(mean, abs=0.005)
    assert numbers(row[4]) == pytest.approx([mean - half, mean + half], abs=0.005)
    p_value = stats.wilcoxon(post, pre).pvalue
    assert row[5] == ("<0.001" if p_value < 0.001 else f"{p_value:.3f}")


def test_report_recovers_every_indicator_from_encrypted_submissions(reported, tmp_path):
    dataset, out, live_server = reported

    by_city = read_table(out, "reach_by_city")
    expected_city = {"Amsterdam": "30", "Rotterdam": "28", "The Hague": "25", "Utrecht": "22",
                     "Nijmegen": "x", "Arnhem": "<5"}  # Arnhem's 3 hidden; Nijmegen's 12 would give it away
    assert {city: values[0] for city, values in by_city.items() if city != "Total"} == expected_city
    assert by_city["Total"] == ["120"]
    assert read_table(out, "reach_total")["120"] == ["500", "24%"]
    groups = read_table(out, "reach_by_target_group")
    # 4 professionals hidden, so the 120 adults must be too: the total would give the 4 away
    assert (groups["An adult with a migration background"], groups["Total"]) == (["x"], ["124"])
    assert groups["A professional (care, reception, police, policy, integration)"] == ["<5"]
    priority = read_table(out, "reach_priority_groups")
    assert priority["Women"] == [str(sum(i % 3 != 2 for i in range(120)))]
    assert priority["Young adults (18\u201324)"] == [str(sum(i % 4 == 0 for i in range(120)))]
    assert priority["LGBTQI+"] == [str(sum(i % 10 == 0 for i in range(120)))]

    pairing = read_table(out, "pairing_participants")
    assert {status: value[0] for status, value in pairing.items()} == {
        "Paired (before and after)": "40", "Before only": "8", "After only": "<5",
        "Ambiguous code (two before or two after)": "<5", "Questionnaires with an invalid code": "<5"}
    change = read_table(out, "change_participants")
    check_change(change["Knowledge of rights and help (1\u20135)"], dataset.participant_scores["knowledge"])
    check_change(change["Attitudes (1\u20135)"], dataset.participant_scores["attitudes"])
    check_change(change["Wellbeing, WHO-5 (0\u2013100)"], dataset.participant_scores["wellbeing"])
    check_change(read_table(out, "change_professionals")["Confidence to recognise, ask and refer (1\u20135)"],
                 dataset.professional_scores)
    professional_pairing = read_table(out, "pairing_professionals")
    assert professional_pairing["Paired (before and after)"] == ["12"] and professional_pairing["Before only"] == ["<5"]

    sectors = read_table(out, "professionals_by_sector")
    assert {k: v[0] for k, v in sectors.items()} == {"Health care (GP, hospital, public health)": "5", "Police and justice": "<5",
                                                     "Reception (COA, asylum reception, women's shelter)": "<5",
                                                     "Education": "<5", "Total": "14"}
    cities = read_table(out, "professionals_by_city")
    assert (cities["Amsterdam"], cities["Rotterdam"], cities["The Hague"], cities["Arnhem"]) == (["7"], ["x"], ["<5"], ["0"])

    sessions = read_table(out, "sessions_by_type")
    for session_type, label in (("psychosocial_group", "Group talk (psychosocial support)"),
                                ("training", "Training or workshop"), ("information_session", "Information session")):
        responses = [row for row in dataset.feedback if row["session_type"] == session_type]
        scores = [int(row["satisfaction"]) for row in responses if row["satisfaction"] != "pna"]
        assert sessions[label][:2] == ["<5", "20"]  # 4 sessions of each type, 20 responses
        assert float(sessions[label][2]) == pytest.approx(statistics.fmean(scores), abs=0.005)
    items = read_table(out, "satisfaction_items")
    satisfaction = [row["satisfaction"] for row in dataset.feedback]
    rated = [int(value) for value in satisfaction if value != "pna"]
    row = items["How satisfied are you with this session?"]
    assert row[0] == str(len(rated)) and float(row[1]) == pytest.approx(statistics.fmean(rated), abs=0.005)
    assert row[2:] == shown_breakdown([satisfaction.count(value) for value in ("1", "2", "3", "4", "5", "pna")])
    recommend = read_table(out, "recommend")
    assert recommend["Yes"] == [str(sum(row["recommend"] == "yes" for row in dataset.feedback))]

    referrals = read_table(out, "referrals_by_type")
    partners = (("veilig_thuis", "Veilig Thuis"), ("csg", "Sexual Violence Centre"), ("huisarts_gza", "GP"),
                ("lgbtqi_org", "LGBTQI+"))  # the form's choice order, which the table follows
    expected = shown_breakdown([dataset.referrals[partner] for partner, _ in partners])
    for (partner, label), cell in zip(partners, expected):
        (row,) = [values for name, values in referrals.items() if name.startswith(label)]
        assert row == [cell, shown(dataset.shared[partner])]
    # the intakes of 2025 (a Veilig Thuis referral each) are not counted
    assert referrals["Total"] == [str(sum(dataset.referrals.values())), str(sum(dataset.shared.values()))]
    by_type_and_city = read_table(out, "referrals_by_type_and_city")
    (row,) = [values for name, values in by_type_and_city.items() if name.startswith("GP")]
    assert row == shown_breakdown([dataset.referrals_by_city.get(("huisarts_gza", city), 0) for city in CITIES])

    outreach = read_table(out, "outreach_by_city")
    labels = ("Amsterdam", "Arnhem", "The Hague", "Nijmegen", "Rotterdam", "Utrecht")
    per_city = [[row for row in dataset.activities if row["city"] == city] for city in CITIES]
    assert [outreach[label][0] for label in labels] == shown_breakdown([len(rows) for rows in per_city])
    for column, field in ((1, "reached_migrant_adults"), (2, "reached_women"), (4, "reached_professionals")):
        counts = [sum(int(row[field]) for row in rows) for rows in per_city]
        assert [outreach[label][column] for label in labels] == shown_breakdown(counts)

    html = next(out.glob("*.html")).read_text(encoding="utf-8")
    assert "Fatima" not in html  # no free text
    assert not any(code in html or code.lower() in html for code in dataset.adult_codes)
    assert "Counts from 1 to 4" in html
    assert 'src="http' not in html and "<link" not in html  # self-contained: nothing fetched when opened

    database = Database(settings_from_env(live_server.env).sqlalchemy_url)
    with database.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "report.generate")).all()
        decrypts = session.scalars(select(AuditEvent).where(AuditEvent.action == "submission.decrypt")).all()
    database.dispose()
    assert len(events) == 1 and events[0].details["threshold"] == 5 and events[0].details["periodStart"] == "2026-01-01"
    assert {event.details["xmlFormId"] for event in decrypts} >= {"samen_intake", "samen_prepost_participant"}

    (pdf,) = out.glob("*.pdf")
    pages = tmp_path / "pages"
    pages.mkdir()
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(pages / "page")], check=True)
    rendered = sorted(pages.glob("page-*.png"))
    assert len(rendered) >= 3 and all(page.read_bytes().startswith(b"\x89PNG") for page in rendered)
