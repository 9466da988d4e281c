"""The report's own words in Dutch and English; question and answer labels come from the forms."""

from __future__ import annotations

LANGUAGES = ("nl", "en")

TEXTS: dict[str, dict[str, str]] = {
    "title": {"en": "SAMEN monitoring and evaluation report", "nl": "SAMEN monitorings- en evaluatierapport"},
    "project": {"en": "Project", "nl": "Project"},
    "period": {"en": "Period", "nl": "Periode"},
    "generated": {"en": "Generated", "nl": "Gemaakt op"},
    "all_time": {"en": "all data", "nl": "alle gegevens"},
    "from": {"en": "from", "nl": "vanaf"},
    "until": {"en": "until", "nl": "tot en met"},
    "privacy_note": {
        "en": "Counts from 1 to {below} are shown as \u201c<{threshold}\u201d; where that one hidden number could be "
              "worked out from a total, a second number is hidden too and shown as \u201cx\u201d. Means over fewer "
              "than {threshold} answers are not shown (\u201c\u2013\u201d). This report contains no participant codes "
              "and no free-text answers.",
        "nl": "Aantallen van 1 tot en met {below} staan er als \u201c<{threshold}\u201d; waar dat ene verborgen getal uit "
              "een totaal te berekenen zou zijn, is nog een getal verborgen (\u201cx\u201d). Gemiddelden over minder dan "
              "{threshold} antwoorden worden niet getoond (\u201c\u2013\u201d). Dit rapport bevat geen "
              "deelnemerscodes en geen open antwoorden.",
    },
    "unreadable": {
        "en": "{count} submission(s) of {form} could not be read ({reason}) and are not counted.",
        "nl": "{count} inzending(en) van {form} konden niet worden gelezen ({reason}) en tellen niet mee.",
    },
    "headline_adults": {"en": "Adults reached", "nl": "Volwassenen bereikt"},
    "headline_professionals": {"en": "Professionals trained", "nl": "Professionals getraind"},
    "headline_sessions": {"en": "Sessions with feedback", "nl": "Sessies met feedback"},
    "headline_referrals": {"en": "Referrals made", "nl": "Verwijzingen"},
    "of_target": {"en": "of {target} ({share})", "nl": "van {target} ({share})"},
    # reach
    "reach": {"en": "Adults reached", "nl": "Bereikte volwassenen"},
    "reach_lead": {
        "en": "Distinct adults with a migration background registered at intake with consent, each counted once by "
              "their participant code, against the programme target of {target}.",
        "nl": "Unieke volwassenen met een migratieachtergrond die bij de intake met toestemming zijn ingeschreven, "
              "elk \u00e9\u00e9n keer geteld op hun deelnemerscode, afgezet tegen het doel van {target}.",
    },
    "reach_total": {"en": "Reach against target", "nl": "Bereik tegenover doel"},
    "reach_city": {"en": "Adults reached per city", "nl": "Bereikte volwassenen per stad"},
    "reach_group": {"en": "Registrations per target group", "nl": "Inschrijvingen per doelgroep"},
    "reach_priority": {"en": "Priority groups among the adults reached", "nl": "Prioritaire groepen onder de bereikte volwassenen"},
    "reach_notes": {
        "en": "{refusals} intake(s) ended because consent was not given; {invalid} intake(s) had no valid code and are not counted.",
        "nl": "{refusals} intake(s) stopten omdat er geen toestemming was; {invalid} intake(s) hadden geen geldige code en tellen niet mee.",
    },
    "adults": {"en": "Adults reached", "nl": "Bereikte volwassenen"},
    "target": {"en": "Target", "nl": "Doel"},
    "share": {"en": "Share of target", "nl": "Deel van het doel"},
    "city": {"en": "City", "nl": "Stad"},
    "target_group": {"en": "Target group", "nl": "Doelgroep"},
    "people": {"en": "People", "nl": "Personen"},
    "group": {"en": "Group", "nl": "Groep"},
    "women": {"en": "Women", "nl": "Vrouwen"},
    "young_adults": {"en": "Young adults (18\u201324)", "nl": "Jongvolwassenen (18\u201324)"},
    "lgbtqi": {"en": "LGBTQI+", "nl": "LHBTIQ+"},
    "total": {"en": "Total", "nl": "Totaal"},
    # professionals
    "trained": {"en": "Professionals trained", "nl": "Getrainde professionals"},
    "trained_lead": {
        "en": "Distinct professionals who filled in the training questionnaire before or after a training, counted "
              "once by their self-made code.",
        "nl": "Unieke professionals die de trainingsvragenlijst voor of na een training invulden, \u00e9\u00e9n keer "
              "geteld op hun zelfgemaakte code.",
    },
    "trained_sector": {"en": "Professionals trained per sector", "nl": "Getrainde professionals per sector"},
    "trained_city": {"en": "Professionals trained per city", "nl": "Getrainde professionals per stad"},
    "sector": {"en": "Sector", "nl": "Sector"},
    "professionals": {"en": "Professionals", "nl": "Professionals"},
    # sessions
    "sessions": {"en": "Sessions and satisfaction", "nl": "Sessies en tevredenheid"},
    "sessions_lead": {
        "en": "{responses} feedback response(s) about {sessions} session(s). The feedback form has no session "
              "number, so a session is a distinct date, city and session type among the responses.",
        "nl": "{responses} feedbackformulier(en) over {sessions} sessie(s). Het feedbackformulier heeft geen "
              "sessienummer; een sessie is daarom een unieke combinatie van datum, stad en soort sessie.",
    },
    "sessions_type": {"en": "Sessions per type", "nl": "Sessies per soort"},
    "session_type": {"en": "Session type", "nl": "Soort sessie"},
    "n_sessions": {"en": "Sessions", "nl": "Sessies"},
    "responses": {"en": "Responses", "nl": "Antwoorden"},
    "mean_satisfaction": {"en": "Mean satisfaction (1\u20135)", "nl": "Gemiddelde tevredenheid (1\u20135)"},
    "satisfaction_items": {"en": "How participants rated the sessions", "nl": "Hoe deelnemers de sessies beoordeelden"},
    "question": {"en": "Question", "nl": "Vraag"},
    "rated": {"en": "Rated", "nl": "Beoordeeld"},
    "mean": {"en": "Mean", "nl": "Gemiddelde"},
    "share_of_answers": {"en": "Share of answers (%)", "nl": "Deel van de antwoorden (%)"},
    "hidden": {"en": "hidden (small numbers)", "nl": "verborgen (kleine aantallen)"},
    "no_answer": {"en": "No answer", "nl": "Geen antwoord"},
    "other_questions": {"en": "Other questions", "nl": "Andere vragen"},
    "recommend_title": {"en": "Would recommend the session", "nl": "Zou de sessie aanraden"},
    "answer": {"en": "Answer", "nl": "Antwoord"},
    # pre/post
    "change": {"en": "Change from before to after", "nl": "Verandering van voor naar na"},
    "change_lead": {
        "en": "Questionnaires before and after are linked only by the pseudonymous code. Codes are normalised (case, "
              "spaces, O/0, I/1) and phone codes must pass their check character. A code with two \u201cbefore\u201d or "
              "two \u201cafter\u201d questionnaires is ambiguous and is never paired.",
        "nl": "Vragenlijsten voor en na zijn alleen via de pseudonieme code gekoppeld. Codes worden gelijkgemaakt "
              "(hoofdletters, spaties, O/0, I/1) en telefooncodes moeten hun controleteken kloppen. Een code met twee "
              "vragenlijsten \u201cvoor\u201d of twee \u201cna\u201d is dubbelzinnig en wordt nooit gekoppeld.",
    },
    "change_participants": {"en": "Participants: mean before and after", "nl": "Deelnemers: gemiddelde voor en na"},
    "change_professionals": {"en": "Professionals: mean before and after", "nl": "Professionals: gemiddelde voor en na"},
    "pairing_participants": {"en": "Participants: pairing", "nl": "Deelnemers: koppeling"},
    "pairing_professionals": {"en": "Professionals: pairing", "nl": "Professionals: koppeling"},
    "scale": {"en": "Scale", "nl": "Schaal"},
    "pairs": {"en": "Pairs", "nl": "Paren"},
    "before": {"en": "Before", "nl": "Voor"},
    "after": {"en": "After", "nl": "Na"},
    "mean_change": {"en": "Change", "nl": "Verandering"},
    "ci": {"en": "95% CI", "nl": "95%-BI"},
    "p_value": {"en": "p (Wilcoxon)", "nl": "p (Wilcoxon)"},
    "too_few_pairs": {"en": "too few pairs to show", "nl": "te weinig paren om te tonen"},
    "status": {"en": "Status", "nl": "Status"},
    "codes": {"en": "Count", "nl": "Aantal"},
    "paired": {"en": "Paired (before and after)", "nl": "Gekoppeld (voor en na)"},
    "pre_only": {"en": "Before only", "nl": "Alleen voor"},
    "post_only": {"en": "After only", "nl": "Alleen na"},
    "ambiguous": {"en": "Ambiguous code (two before or two after)", "nl": "Dubbelzinnige code (twee keer voor of na)"},
    "invalid": {"en": "Questionnaires with an invalid code", "nl": "Vragenlijsten met een ongeldige code"},
    "knowledge": {"en": "Knowledge of rights and help (1\u20135)", "nl": "Kennis van rechten en hulp (1\u20135)"},
    "attitudes": {"en": "Attitudes (1\u20135)", "nl": "Houding (1\u20135)"},
    "wellbeing_who5": {"en": "Wellbeing, WHO-5 (0\u2013100)", "nl": "Welzijn, WHO-5 (0\u2013100)"},
    "professional_knowledge": {"en": "Knowledge of SGBV and pathways (1\u20135)",
                               "nl": "Kennis van SGGV en verwijsroutes (1\u20135)"},
    "self_efficacy": {"en": "Confidence to recognise, ask and refer (1\u20135)",
                      "nl": "Vertrouwen om te herkennen, te vragen en te verwijzen (1\u20135)"},
    # referrals
    "referrals": {"en": "Referrals", "nl": "Verwijzingen"},
    "referrals_lead": {
        "en": "Referrals made at intake, one for each organisation ticked; sharing data with an organisation needs "
              "its own consent.",
        "nl": "Verwijzingen bij de intake, \u00e9\u00e9n per aangevinkte organisatie; gegevens delen met een "
              "organisatie vraagt een eigen toestemming.",
    },
    "referrals_type": {"en": "Referrals per organisation", "nl": "Verwijzingen per organisatie"},
    "referrals_city": {"en": "Referrals per organisation and city", "nl": "Verwijzingen per organisatie en stad"},
    "organisation": {"en": "Organisation", "nl": "Organisatie"},
    "n_referrals": {"en": "Referrals", "nl": "Verwijzingen"},
    "consent_share": {"en": "With consent to share", "nl": "Met toestemming om te delen"},
    # outreach
    "outreach": {"en": "Ambassador outreach", "nl": "Bereik door ambassadeurs"},
    "outreach_lead": {
        "en": "Numbers from the ambassadors' activity log ({activities} activities). People reached at several "
              "activities are counted at each.",
        "nl": "Aantallen uit het activiteitenlogboek van de ambassadeurs ({activities} activiteiten). Wie bij "
              "meerdere activiteiten is bereikt, telt bij elke activiteit mee.",
    },
    "outreach_city": {"en": "Outreach per city", "nl": "Bereik per stad"},
    "outreach_type": {"en": "Activities per type", "nl": "Activiteiten per soort"},
    "activity_type": {"en": "Activity type", "nl": "Soort activiteit"},
    "activities": {"en": "Activities", "nl": "Activiteiten"},
    "reached_migrant_adults": {"en": "Adults reached", "nl": "Volwassenen bereikt"},
    "reached_women": {"en": "of whom women", "nl": "waarvan vrouwen"},
    "reached_young_adults": {"en": "of whom young adults", "nl": "waarvan jongvolwassenen"},
    "reached_professionals": {"en": "Professionals reached", "nl": "Professionals bereikt"},
    "referrals_count": {"en": "Referrals", "nl": "Verwijzingen"},
    # method
    "method": {"en": "How these numbers were made", "nl": "Hoe deze cijfers zijn gemaakt"},
    "method_period": {
        "en": "A form counts in the period by the date it was filled in (the form's own date, else the date it "
              "reached the server). Only answers given with consent are counted.",
        "nl": "Een formulier telt mee in de periode op de datum waarop het is ingevuld (de datum in het formulier, "
              "anders de datum van ontvangst). Alleen antwoorden gegeven met toestemming tellen mee.",
    },
    "method_scales": {
        "en": "Scale scores are the mean of the answered items (at least half answered); \u201cprefer not to answer\u201d "
              "is not a score. WHO-5: raw sum \u00d7 4, only when all five items were answered (WHO-5 Well-Being Index, "
              "\u00a9 Psychiatric Research Unit, WHO Collaborating Centre in Mental Health, Frederiksborg; free to "
              "use). The change is after minus before per pair; its 95% confidence interval uses the t distribution; "
              "p is the two-sided Wilcoxon signed-rank test.",
        "nl": "Schaalscores zijn het gemiddelde van de beantwoorde vragen (minstens de helft beantwoord); \u201czeg ik "
              "liever niet\u201d is geen score. WHO-5: ruwe som \u00d7 4, alleen als alle vijf vragen zijn beantwoord "
              "(WHO-5 Well-Being Index, \u00a9 Psychiatric Research Unit, WHO Collaborating Centre in Mental Health, "
              "Frederiksborg; vrij te gebruiken). De verandering is na min voor per paar; het 95%-betrouwbaarheids"
              "interval gebruikt de t-verdeling; p is de tweezijdige Wilcoxon-rangtekentoets.",
    },
}


def text(key: str, language: str, **values: object) -> str:
    return TEXTS[key][language].format(**values)
