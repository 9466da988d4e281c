"""The console's words in Dutch and English: English is written in the code, Dutch is looked up here.

`translate(locale, text, **values)` returns the text in the locale with `{name}`
placeholders filled in. Text without a Dutch entry shows in English (a test
checks every `_("…")` in the console has one). Review and form states are
stored as identifiers (Central's), so they have English entries too.
"""

from __future__ import annotations

from typing import Any

LOCALES = ("nl", "en")  # Dutch first: the default for staff in the Netherlands

STATE_NAMES = {  # review states, then form states
    "en": {"received": "Received", "hasIssues": "Has issues", "edited": "Edited", "approved": "Approved",
           "rejected": "Rejected", "open": "Open", "closing": "Closing", "closed": "Closed"},
    "nl": {"received": "Ontvangen", "hasIssues": "Heeft problemen", "edited": "Bewerkt", "approved": "Goedgekeurd",
           "rejected": "Afgewezen", "open": "Open", "closing": "Wordt gesloten", "closed": "Gesloten"},
}

DUTCH: dict[str, str] = {
    "Add a comment": "Opmerking toevoegen",
    "Add comment": "Opmerking plaatsen",
    "All": "Alle",
    "Answers": "Antwoorden",
    "App users": "App-gebruikers",
    "App users (phones)": "App-gebruikers (telefoons)",
    "Audit log": "Auditlog",
    "Back to the projects": "Terug naar de projecten",
    "Breadcrumbs": "Kruimelpad",
    "Cancel": "Annuleren",
    "Cells and headers (Excel)": "Cellen en kopjes (Excel)",
    "Choose a review state.": "Kies een beoordelingsstatus.",
    "Choose an XLSForm (.xlsx or .xls) or an XForm (.xml) to upload.":
        "Kies een XLSForm (.xlsx of .xls) of een XForm (.xml) om te uploaden.",
    "City": "Stad",
    "Close": "Sluiten",
    "Comments": "Opmerkingen",
    "Comments are not encrypted: do not write names or other personal details.":
        "Opmerkingen worden niet versleuteld: schrijf geen namen of andere persoonsgegevens op.",
    "Create and show QR code": "Aanmaken en QR-code tonen",
    "Do not encrypt": "Niet versleutelen",
    "Done: the download has started.": "Klaar: de download is begonnen.",
    "Draft": "Concept",
    "Each phone gets its own QR code. Revoke a phone that is lost or no longer used: its access stops at once.":
        "Elke telefoon krijgt een eigen QR-code. Trek een telefoon in die kwijt is of niet meer gebruikt wordt: "
        "de toegang stopt meteen.",
    "Edits": "Bewerkingen",
    "Email address": "E-mailadres",
    "Encrypt answers with the project key (recommended)": "Antwoorden versleutelen met de projectsleutel (aanbevolen)",
    "Encrypted": "Versleuteld",
    "Encryption": "Versleuteling",
    "Export": "Exporteren",
    "Exporting {total} submissions… {size} received": "{total} inzendingen exporteren… {size} ontvangen",
    "Filter": "Filteren",
    "Form": "Formulier",
    "Format": "Bestandsformaat",
    "Forms": "Formulieren",
    "Forms this phone may fill in": "Formulieren die deze telefoon mag invullen",
    "From": "Van",
    "Give the phone a name, e.g. the ambassador's first name and city.":
        "Geef de telefoon een naam, bijvoorbeeld de voornaam en stad van de ambassadeur.",
    "In Collect: Add project → Scan QR code. The code is a password: show it only to the person who sets up this phone.":
        "In Collect: Project toevoegen → QR-code scannen. De code is een wachtwoord: laat hem alleen zien aan "
        "wie deze telefoon instelt.",
    "Instance ID": "Instance-ID",
    "Key custodians": "Sleutelbeheerders",
    "Key locked": "Sleutel op slot",
    "Key unlocked": "Sleutel ontgrendeld",
    "Language of labels": "Taal van de labels",
    "Last submission": "Laatste inzending",
    "Lock now": "Nu vergrendelen",
    "Main": "Hoofdmenu",
    "Manage phones": "Telefoons beheren",
    "Media": "Media",
    "Name": "Naam",
    "Names and values, as stored": "Namen en waarden, zoals opgeslagen",
    "New app user": "Nieuwe app-gebruiker",
    "New form": "Nieuw formulier",
    "Newer": "Nieuwer",
    "No app users yet.": "Nog geen app-gebruikers.",
    "No comments yet.": "Nog geen opmerkingen.",
    "No events.": "Geen gebeurtenissen.",
    "No forms yet.": "Nog geen formulieren.",
    "No published versions yet.": "Nog geen gepubliceerde versies.",
    "No submissions match.": "Geen inzendingen gevonden.",
    "Not allowed": "Niet toegestaan",
    "Not found": "Niet gevonden",
    "Older": "Ouder",
    "Only key custodians know the passphrase. The key stays unlocked for this browser session only, "
    "for {minutes} minutes, or until you lock it.":
        "Alleen sleutelbeheerders kennen de wachtwoordzin. De sleutel blijft alleen in deze browsersessie "
        "ontgrendeld, {minutes} minuten lang of tot je hem vergrendelt.",
    "Page {number}": "Pagina {number}",
    "Pages": "Pagina's",
    "Passphrase": "Wachtwoordzin",
    "Password": "Wachtwoord",
    "Phones get the new version with their next form update.":
        "Telefoons krijgen de nieuwe versie bij hun volgende formulierupdate.",
    "Preparing the export…": "De export wordt voorbereid…",
    "Projects": "Projecten",
    "Publish": "Publiceren",
    "Published": "Gepubliceerd",
    "Published version": "Gepubliceerde versie",
    "QR code for ODK Collect": "QR-code voor ODK Collect",
    "Question and choice labels": "Labels van vragen en keuzes",
    "Recent activity": "Recente activiteit",
    "Review": "Beoordeling",
    "Review state": "Beoordelingsstatus",
    "Revoke": "Intrekken",
    "Revoke this phone? It stops working at once.": "Deze telefoon intrekken? Hij werkt dan meteen niet meer.",
    "SAMEN Forms is for SAMEN staff. Phones do not sign in here: they scan a QR code.":
        "SAMEN Forms is voor medewerkers van SAMEN. Telefoons loggen hier niet in: die scannen een QR-code.",
    "Save": "Opslaan",
    "Save forms": "Formulieren opslaan",
    "Scan this temporary testing code in Collect (Add project → Scan QR code) to fill in the draft and send test "
    "submissions. It stops working when the draft is published or deleted.":
        "Scan deze tijdelijke testcode in Collect (Project toevoegen → QR-code scannen) om het concept in te vullen "
        "en testinzendingen te versturen. De code werkt niet meer zodra het concept gepubliceerd of verwijderd is.",
    "Server URL for testing": "Server-URL om te testen",
    "Sign in": "Inloggen",
    "Sign out": "Uitloggen",
    "Skip to content": "Naar de inhoud",
    "Something went wrong": "Er ging iets mis",
    "State": "Status",
    "Submission": "Inzending",
    "Submissions": "Inzendingen",
    "Submissions per city": "Inzendingen per stad",
    "Submissions per day, last {days} days": "Inzendingen per dag, laatste {days} dagen",
    "Submitted": "Ingezonden",
    "Submitted by": "Ingezonden door",
    "Test submissions: {count}. They are kept apart from the real data and deleted when the draft is published or "
    "deleted.":
        "Testinzendingen: {count}. Ze blijven gescheiden van de echte gegevens en worden verwijderd zodra het "
        "concept gepubliceerd of verwijderd is.",
    "Test this draft in ODK Collect": "Dit concept testen in ODK Collect",
    "That passphrase does not unlock this project's key.": "Met deze wachtwoordzin gaat de projectsleutel niet open.",
    "The audit log is intact: every event follows the one before it.":
        "Het auditlog is intact: elke gebeurtenis sluit aan op de vorige.",
    "The audit log was tampered with at event {id}.": "Er is met het auditlog geknoeid bij gebeurtenis {id}.",
    "The email address or password is not right.": "Het e-mailadres of wachtwoord klopt niet.",
    "The export failed. Try again, or ask an administrator.": "De export is mislukt. Probeer het opnieuw of vraag een beheerder.",
    "Without a password the file holds the answers in plain text. Store it only in a place the programme has "
    "approved, and delete it when you are done.":
        "Zonder wachtwoord bevat het bestand de antwoorden leesbaar. Bewaar het alleen op een plek die het "
        "programma heeft goedgekeurd, en verwijder het als je klaar bent.",
    "Protect the file": "Het bestand beveiligen",
    "Report": "Rapportage",
    "SAMEN's indicators for a period: reach against the target, trainings, sessions and satisfaction, pre/post "
    "change paired by code, and referrals. Small numbers are hidden; no codes or free text appear in it.":
        "De indicatoren van SAMEN over een periode: bereik tegenover het doel, trainingen, sessies en tevredenheid, "
        "verandering voor/na gekoppeld op code, en doorverwijzingen. Kleine aantallen worden verborgen; er staan "
        "geen codes of vrije tekst in.",
    "The key is locked. Unlock it to compute the report from the encrypted answers.":
        "De sleutel is vergrendeld. Ontgrendel hem om de rapportage uit de versleutelde antwoorden te berekenen.",
    "Unlock the project key first: the report is computed from the encrypted answers.":
        "Ontgrendel eerst de projectsleutel: de rapportage wordt uit de versleutelde antwoorden berekend.",
    "Give the dates as year-month-day.": "Geef de datums als jaar-maand-dag.",
    "Language of the report": "Taal van de rapportage",
    "File": "Bestand",
    "Make the report": "Rapportage maken",
    "Too many wrong passphrases. Wait a few minutes before trying again.":
        "Te vaak een verkeerde wachtwoordzin. Wacht een paar minuten en probeer het dan opnieuw.",
    "Encrypt the file with a password (Excel and 7-Zip ask for it)":
        "Versleutel het bestand met een wachtwoord (Excel en 7-Zip vragen erom)",
    "Password for the file": "Wachtwoord voor het bestand",
    "Use a password of at least {count} characters.": "Gebruik een wachtwoord van minstens {count} tekens.",
    "Choose a password for the file, or untick the protection.":
        "Kies een wachtwoord voor het bestand, of zet de beveiliging uit.",
    "The form could not be read": "Het formulier kon niet worden gelezen",
    "The form has no warnings.": "Het formulier heeft geen waarschuwingen.",
    "The form is checked with pyxform and ODK Validate and saved as a draft. Phones see it only after you publish it.":
        "Het formulier wordt gecontroleerd met pyxform en ODK Validate en als concept opgeslagen. Telefoons zien "
        "het pas als je het publiceert.",
    "The key is locked: encrypted submissions will be rows without answers. Unlock first to export their answers.":
        "De sleutel is op slot: versleutelde inzendingen worden rijen zonder antwoorden. Ontgrendel eerst om hun "
        "antwoorden te exporteren.",
    "There is no such phone in this project.": "Deze telefoon bestaat niet in dit project.",
    "There is no such submission.": "Deze inzending bestaat niet.",
    "This app user is revoked.": "Deze app-gebruiker is ingetrokken.",
    "This file is not available: it has not arrived, or the key is locked.":
        "Dit bestand is niet beschikbaar: het is nog niet aangekomen, of de sleutel is op slot.",
    "This file is the form '{other}', not '{this}'. Upload it from the project page.":
        "Dit bestand is het formulier '{other}', niet '{this}'. Upload het vanaf de projectpagina.",
    "This form has no published version yet, so there is nothing to export.":
        "Dit formulier heeft nog geen gepubliceerde versie, dus er is niets te exporteren.",
    "This project has no key: its forms are not encrypted.":
        "Dit project heeft geen sleutel: de formulieren worden niet versleuteld.",
    "This submission is encrypted. Unlock the project key to read it.":
        "Deze inzending is versleuteld. Ontgrendel de projectsleutel om hem te lezen.",
    "Title": "Titel",
    "To": "Tot en met",
    "Too many failed attempts. Wait a few minutes before trying again.":
        "Te veel mislukte pogingen. Wacht een paar minuten en probeer het dan opnieuw.",
    "Unlock": "Ontgrendelen",
    "Unlock the project key": "De projectsleutel ontgrendelen",
    "Upload": "Uploaden",
    "Upload a new definition": "Een nieuwe versie uploaden",
    "Upload an XLSForm (.xlsx or .xls) or an XForm (.xml).": "Upload een XLSForm (.xlsx of .xls) of een XForm (.xml).",
    "Version": "Versie",
    "Versions": "Versies",
    "Warnings from pyxform": "Waarschuwingen van pyxform",
    "Write a comment first.": "Schrijf eerst een opmerking.",
    "XLSForm (.xlsx, .xls) or XForm (.xml)": "XLSForm (.xlsx, .xls) of XForm (.xml)",
    "You have no projects yet. Ask an administrator to give you a role in a project.":
        "Je hebt nog geen projecten. Vraag een beheerder om je een rol in een project te geven.",
    "[Draft] {name}": "[Concept] {name}",
    "draft": "concept",
    "e.g. Amina – Rotterdam": "bijv. Amina – Rotterdam",
    "encrypted": "versleuteld",
    "encrypted answers are hidden.": "versleutelde antwoorden zijn verborgen.",
    "encrypted answers are readable in this browser.": "versleutelde antwoorden zijn leesbaar in deze browser.",
    "It locks at {time}.": "Hij gaat op slot om {time}.",
    "It locks in": "Hij gaat op slot over",
    "encrypted — unlock to read": "versleuteld — ontgrendel om te lezen",
    "no": "nee",
    "no forms": "geen formulieren",
    "not published yet": "nog niet gepubliceerd",
    "revoked": "ingetrokken",
    "system": "systeem",
    "version": "versie",
    "yes": "ja",
    "{count} active": "{count} actief",
    "{count} forms": "{count} formulieren",
    "{count} submissions": "{count} inzendingen",
    "{count} submissions could not be read (the key is locked), so they are not counted per city.":
        "{count} inzendingen konden niet worden gelezen (de sleutel is op slot) en tellen daarom niet mee per stad.",
}

_CATALOGUES: dict[str, dict[str, str]] = {
    "nl": {**DUTCH, **STATE_NAMES["nl"]},
    "en": STATE_NAMES["en"],
}


def translate(locale: str, text: str, **values: Any) -> str:
    template = _CATALOGUES.get(locale, {}).get(text, text)
    return template.format(**values) if values else template
