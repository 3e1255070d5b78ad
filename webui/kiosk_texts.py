"""What the visitor kiosk says, in Dutch, English, German and Polish (visitors, drivers, contractors).

The rest of the page has Dutch and English (``webui/i18n.py``); the kiosk is
read by visitors, so it carries its own four languages. The 48-hour question
in Dutch and English is the visitors logbook's own label (the seed's
question); German and Polish are translations of it.
"""

from __future__ import annotations

from rules.logbooks import form_fields

KIOSK_LANGUAGES = {"nl": "Nederlands", "en": "English", "de": "Deutsch", "pl": "Polski"}

_FIELDS = {f["name"]: f for f in form_fields("visitors", "nl")}
_FIELDS_EN = {f["name"]: f for f in form_fields("visitors", "en")}

TEXT: dict[str, dict[str, str]] = {
    "title": {"nl": "Welkom. Meld u aan als bezoeker.", "en": "Welcome. Please register as a visitor.",
              "de": "Willkommen. Bitte melden Sie sich als Besucher an.",
              "pl": "Witamy. Prosimy zarejestrować się jako gość."},
    "intro": {"nl": "Iedereen die verder gaat dan de hygiënesluis schrijft zich hier in (IKB Ei A4.2.2).",
              "en": "Everyone going beyond the hygiene lock registers here (IKB Ei A4.2.2).",
              "de": "Wer über die Hygieneschleuse hinausgeht, trägt sich hier ein (IKB Ei A4.2.2).",
              "pl": "Każdy, kto przechodzi dalej niż śluza higieniczna, rejestruje się tutaj (IKB Ei A4.2.2)."},
    "question": {"nl": _FIELDS["poultry_contact_48h"]["label"], "en": _FIELDS_EN["poultry_contact_48h"]["label"],
                 "de": "Waren Sie in den letzten 48 Stunden auf einem anderen Geflügelbetrieb, auf dem eine "
                       "ansteckende Krankheit herrscht?",
                 "pl": "Czy w ciągu ostatnich 48 godzin był(a) Pan/Pani na innej fermie drobiu, na której występuje "
                       "choroba zakaźna?"},
    "yes": {"nl": "Ja", "en": "Yes", "de": "Ja", "pl": "Tak"},
    "no": {"nl": "Nee", "en": "No", "de": "Nein", "pl": "Nie"},
    "yes_warning": {"nl": "Ga de stallen niet in. De pluimveehouder krijgt direct bericht en spreekt u eerst.",
                    "en": "Do not enter the houses. The farmer is told at once and will speak to you first.",
                    "de": "Betreten Sie die Ställe nicht. Der Landwirt wird sofort informiert und spricht zuerst "
                          "mit Ihnen.",
                    "pl": "Proszę nie wchodzić do kurników. Hodowca zostanie natychmiast powiadomiony i najpierw "
                          "z Panem/Panią porozmawia."},
    "name": {"nl": "Naam", "en": "Name", "de": "Name", "pl": "Imię i nazwisko"},
    "organisation": {"nl": "Organisatie (of 'particulier')", "en": "Organisation (or 'private')",
                     "de": "Firma (oder 'privat')", "pl": "Firma (lub 'prywatnie')"},
    "houses": {"nl": "Welke stallen bezoekt u?", "en": "Which houses will you visit?",
               "de": "Welche Ställe besuchen Sie?", "pl": "Które kurniki Pan/Pani odwiedzi?"},
    "license_plate": {"nl": "Kenteken (of 'geen')", "en": "Licence plate (or 'none')",
                      "de": "Kennzeichen (oder 'keins')", "pl": "Numer rejestracyjny (lub 'brak')"},
    "purpose": {"nl": "Doel van het bezoek (niet verplicht)", "en": "Purpose of the visit (optional)",
                "de": "Zweck des Besuchs (freiwillig)", "pl": "Cel wizyty (opcjonalnie)"},
    "signature": {"nl": "Handtekening: teken met uw vinger", "en": "Signature: draw with your finger",
                  "de": "Unterschrift: mit dem Finger zeichnen", "pl": "Podpis: proszę podpisać palcem"},
    "clear": {"nl": "Opnieuw tekenen", "en": "Draw again", "de": "Neu zeichnen", "pl": "Narysuj ponownie"},
    "submit": {"nl": "Aanmelden", "en": "Register", "de": "Anmelden", "pl": "Zarejestruj"},
    "fix": {"nl": "Nog niet aangemeld: vul aan wat rood staat.", "en": "Not registered yet: complete what is red.",
            "de": "Noch nicht angemeldet: bitte das Rote ergänzen.",
            "pl": "Jeszcze nie zarejestrowano: proszę uzupełnić pola oznaczone na czerwono."},
    "now": {"nl": "Aankomst", "en": "Arrival", "de": "Ankunft", "pl": "Przybycie"},
    "thanks": {"nl": "Dank u wel, u bent aangemeld.", "en": "Thank you, you are registered.",
               "de": "Vielen Dank, Sie sind angemeldet.", "pl": "Dziękujemy, jest Pan/Pani zarejestrowany(a)."},
    "next": {"nl": "Volgende bezoeker", "en": "Next visitor", "de": "Nächster Besucher", "pl": "Następny gość"},
    "hygiene": {"nl": "Volg de hygiëneregels van de sluis: handen wassen, bedrijfskleding en -schoenen.",
                "en": "Follow the hygiene lock's rules: wash your hands, wear the farm's clothes and boots.",
                "de": "Befolgen Sie die Regeln der Hygieneschleuse: Hände waschen, Betriebskleidung und "
                      "-stiefel tragen.",
                "pl": "Proszę przestrzegać zasad śluzy: umyć ręce, założyć odzież i obuwie fermy."},
    # One message per field, for a visitor (the farm's forms show the logbook's own messages).
    "err_name": {"nl": "Vul uw naam in.", "en": "Please fill in your name.", "de": "Bitte Ihren Namen eintragen.",
                 "pl": "Proszę podać imię i nazwisko."},
    "err_organisation": {"nl": "Vul uw organisatie in (of 'particulier').",
                         "en": "Please fill in your organisation (or 'private').",
                         "de": "Bitte Ihre Firma eintragen (oder 'privat').",
                         "pl": "Proszę podać firmę (lub 'prywatnie')."},
    "err_poultry_contact_48h": {"nl": "Beantwoord de vraag met ja of nee.", "en": "Please answer yes or no.",
                                "de": "Bitte mit Ja oder Nein antworten.", "pl": "Proszę odpowiedzieć tak lub nie."},
    "err_houses": {"nl": "Kies minstens één stal.", "en": "Please choose at least one house.",
                   "de": "Bitte mindestens einen Stall wählen.", "pl": "Proszę wybrać co najmniej jeden kurnik."},
    "err_license_plate": {"nl": "Vul uw kenteken in (of 'geen').", "en": "Please fill in your licence plate "
                                                                          "(or 'none').",
                          "de": "Bitte Kennzeichen eintragen (oder 'keins').",
                          "pl": "Proszę podać numer rejestracyjny (lub 'brak')."},
    "err_purpose": {"nl": "Maak het doel korter.", "en": "Please shorten the purpose.",
                    "de": "Bitte den Zweck kürzer fassen.", "pl": "Proszę skrócić opis celu."},
    "err_signature": {"nl": "Zet uw handtekening in het vak.", "en": "Please sign in the box.",
                      "de": "Bitte im Feld unterschreiben.", "pl": "Proszę podpisać się w ramce."},
    "err_signature_bad": {"nl": "De handtekening kon niet worden gelezen. Teken opnieuw.",
                          "en": "The signature could not be read. Please sign again.",
                          "de": "Die Unterschrift konnte nicht gelesen werden. Bitte erneut unterschreiben.",
                          "pl": "Nie można odczytać podpisu. Proszę podpisać ponownie."},
    "err_form": {"nl": "Er ging iets mis. Vraag de pluimveehouder.", "en": "Something went wrong. Ask the farmer.",
                 "de": "Etwas ist schiefgelaufen. Bitte den Landwirt fragen.",
                 "pl": "Coś poszło nie tak. Proszę zapytać hodowcę."},
}


def kiosk_text(key: str, lang: str) -> str:
    """Return a kiosk text in one of the four languages (Dutch when the language is unknown)."""
    texts = TEXT[key]
    return texts.get(lang) or texts["nl"]
