"""A light guess at the language of a message, as a hint for agents and macros.

Scripts decide most cases outright (kana → Japanese, Hangul → Korean, Han
without kana → Chinese, Arabic, Cyrillic, Greek, Hebrew, Thai).  Latin-script
text is scored by common function words of the languages sellers meet on
the marketplaces; a guess needs a few hits and a clear lead, otherwise the
answer is None.  It costs a few microseconds per mail and loads no model,
which matters because every ingested mail passes through it.
"""

from __future__ import annotations

import re

__all__ = ["guess_language"]

_SAMPLE = 2000
_MIN_LETTERS = 12
_MIN_HITS = 2
_LEAD = 1.5

_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_PERSIAN = re.compile(r"[\u067e\u0686\u0698\u06af\u06cc]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_UKRAINIAN = re.compile(r"[\u0454\u0456\u0457\u0491\u0404\u0406\u0407\u0490]")
_GREEK = re.compile(r"[\u0370-\u03ff]")
_HEBREW = re.compile(r"[\u0590-\u05ff]")
_THAI = re.compile(r"[\u0e00-\u0e7f]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_ENOUGH_LATIN = re.compile(rf"(?:[^A-Za-z\u00c0-\u024f]*[A-Za-z\u00c0-\u024f]){{{_MIN_LETTERS}}}")
# Greek, the first of the scripts counted above, starts here.
_FIRST_OTHER_SCRIPT = "\u0370"
_WORD = re.compile(r"[a-z\u00df-\u024f]+(?:'[a-z]+)?")
# Addresses and links.  An address match, if any, starts where its run of
# non-space characters does, so only run starts are tried for it.
_URL_OR_ADDRESS = re.compile(r"(?<!\S)\S+@\S+|https?://\S+|www\.\S+")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the and you your is are was have has not this that with for what when can could would please "
        "thank thanks order my it i me we of to be do did item received"
    ),
    "de": _words(
        "der die das und ist nicht ich sie mit ein eine einen ihr ihre wir bitte danke noch auf für "
        "habe haben wurde meine mein den dem des auch nur schon bestellung grüße leider"
    ),
    "fr": _words(
        "le la les et est je vous pas une un des pour avec mon ma mes que qui bonjour merci commande "
        "reçu sur dans ce cette été avoir suis votre"
    ),
    "es": _words(
        "el la los las y es no que un una por para con mi mis pero hola gracias pedido recibido "
        "todavía está del al he han su sus usted"
    ),
    "it": _words(
        "il lo la gli le e è non che un una per con mio mia ho ciao grazie ordine ancora sono "
        "del della di questo questa ricevuto"
    ),
    "nl": _words(
        "de het een en is niet ik u je met van voor op mijn bestelling nog dank bedankt heb ontvangen wij zijn maar dat"
    ),
    "pt": _words(
        "o a os as e é não que um uma por para com meu minha olá obrigado obrigada pedido recebi ainda do da está você"
    ),
    "pl": _words(
        "i w nie na jest się to z że do mam moje moja zamówienie dziękuję proszę jeszcze czy dzień dobry "
        "otrzymałem otrzymałam"
    ),
    "sv": _words("och att det är inte jag du en ett med för på min mitt beställning tack hej har fått ännu som"),
    "tr": _words("ve bir bu da de için ile ne ben siz merhaba teşekkürler sipariş henüz gelmedi değil mi çok var yok"),
}


# Which languages list each stop word, so scoring looks every word up once.
_LANGUAGES_BY_WORD: dict[str, tuple[str, ...]] = {
    word: tuple(language for language, words in _STOPWORDS.items() if word in words)
    for word in frozenset().union(*_STOPWORDS.values())
}


def guess_language(text: str) -> str | None:
    """ISO 639-1 code of the language ``text`` is most likely in, or None."""
    sample = text[:_SAMPLE]
    if "@" in sample or "://" in sample or "www." in sample:
        sample = _URL_OR_ADDRESS.sub(" ", sample)
    if sample.isascii() or max(sample) < _FIRST_OTHER_SCRIPT:
        # No other script can occur, so only the Latin letters need counting.
        return _latin_language(sample) if _ENOUGH_LATIN.match(sample) else None
    kana = len(_KANA.findall(sample))
    han = len(_HAN.findall(sample))
    hangul = len(_HANGUL.findall(sample))
    arabic = len(_ARABIC.findall(sample))
    cyrillic = len(_CYRILLIC.findall(sample))
    greek = len(_GREEK.findall(sample))
    hebrew = len(_HEBREW.findall(sample))
    thai = len(_THAI.findall(sample))
    latin = len(_LATIN.findall(sample))
    scripts = {
        "ja": kana * 3 + (han if kana else 0),
        "ko": hangul,
        "zh": han if not kana else 0,
        "ar": arabic,
        "ru": cyrillic,
        "el": greek,
        "he": hebrew,
        "th": thai,
    }
    best = max(scripts, key=lambda key: scripts[key])
    if scripts[best] >= 4 and scripts[best] * 2 >= latin:
        if best == "ar" and _PERSIAN.search(sample):
            return "fa"
        if best == "ru" and _UKRAINIAN.search(sample):
            return "uk"
        return best
    if latin < _MIN_LETTERS:
        return None
    return _latin_language(sample)


def _latin_language(sample: str) -> str | None:
    scores = dict.fromkeys(_STOPWORDS, 0)
    for word in filter(_LANGUAGES_BY_WORD.__contains__, _WORD.findall(sample.lower())):
        for language in _LANGUAGES_BY_WORD[word]:
            scores[language] += 1
    top, second = sorted(scores.values(), reverse=True)[:2]
    if top >= _MIN_HITS and top >= second * _LEAD:
        return max(scores, key=scores.__getitem__)  # the first language with the top score
    return None
