"""Words as the change detector counts them: tokens (each character of scripts written without
spaces counts as a word), shingles and the similarity measures over them, and which words
are numbers or negations."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

from preserve.tokens import tokens

# Words whose appearance or disappearance flips a claim ("denied" → "did not deny"), with
# the commonest ones of a few other languages the sample sources use.
NEGATIONS = frozenset(
    "not no never none nobody nothing nowhere neither nor without cannot "
    "deny denies denied denying denial "
    "не нет никогда ни nicht kein keine nie jamais nunca".split()
)
# Number words, in English and in the languages most cited sources come in: a claim that
# "два" soldiers died that becomes "три" is a changed number in any language. Russian and
# Ukrainian ones are listed in their common case forms (два, двух, двум, двумя…). The words
# for "one" that are also articles (un, une, una, uno, um, uma) are left out, and so are the
# ones that are English words too (French "seize", Spanish "once", Portuguese "doze"), which
# an English edit would otherwise flag as a changed number. Compounds written as one word
# ("dreiundzwanzig", "veintidós") are `_COMPOUND`, with hyphens ("vingt-deux") below.
NUMBER_WORDS = frozenset(
    # English
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
    "eighty ninety hundred thousand million billion trillion dozen half "
    # Russian
    "ноль нуль один одна одно одного одной одному одним одну два две двух двум двумя "
    "три трёх трех трём трем тремя четыре четырёх четырех четырём четырем четырьмя "
    "пять пяти пятью шесть шести шестью семь семи семью восемь восьми восемью девять "
    "девяти девятью десять десяти десятью одиннадцать двенадцать тринадцать четырнадцать "
    "пятнадцать шестнадцать семнадцать восемнадцать девятнадцать двадцать двадцати "
    "тридцать тридцати сорок сорока пятьдесят пятидесяти шестьдесят семьдесят восемьдесят "
    "девяносто сто ста двести триста четыреста пятьсот тысяча тысячи тысяч тысячу "
    "миллион миллиона миллионов миллиард миллиарда миллиардов десятки сотни "
    # Ukrainian
    "нуль одна одне дві двох двом трьох чотири чотирьох п'ять шість сім вісім дев'ять "
    "десять сто тисяча тисячі тисяч мільйон мільйона мільйонів мільярд "
    # Russian and Ukrainian: the rest of the tens and hundreds, and the collective numbers
    "шестьсот семьсот восемьсот девятьсот двое трое четверо пятеро "
    "одинадцять дванадцять тринадцять чотирнадцять п'ятнадцять шістнадцять сімнадцять "
    "вісімнадцять дев'ятнадцять двадцять тридцять п'ятдесят шістдесят сімдесят "
    "вісімдесят дев'яносто двісті триста чотириста п'ятсот шістсот сімсот вісімсот "
    "дев'ятсот мільярда мільярдів двоє "
    # German, French, Spanish, Italian, Portuguese
    "null eins zwei drei vier fünf sechs sieben acht neun zehn zwanzig dreißig hundert "
    "tausend million millionen milliarde milliarden "
    "elf zwölf dreizehn vierzehn fünfzehn sechzehn siebzehn achtzehn neunzehn dreissig "
    "vierzig fünfzig sechzig siebzig achtzig neunzig "
    "zéro deux trois quatre cinq six sept huit neuf dix vingt trente quarante "
    "cinquante cent cents mille millions milliard milliards "
    "onze douze treize quatorze quinze soixante septante octante huitante nonante vingts "
    "cero dos tres cuatro cinco seis siete ocho nueve diez veinte treinta cuarenta "
    "cincuenta cien ciento mil millón millones "
    "doce trece catorce quince dieciséis diecisiete dieciocho diecinueve sesenta "
    "setenta ochenta noventa doscientos doscientas trescientos trescientas cuatrocientos "
    "cuatrocientas quinientos quinientas seiscientos seiscientas setecientos setecientas "
    "ochocientos ochocientas novecientos novecientas "
    "due tre quattro cinque sei sette otto nove dieci venti trenta cento mille milione "
    "milioni miliardo miliardi "
    "undici dodici tredici quattordici quindici sedici diciassette diciotto diciannove "
    "quaranta cinquanta sessanta settanta ottanta novanta duecento trecento quattrocento "
    "cinquecento seicento settecento ottocento novecento "
    "dois duas três quatro cinco seis sete oito nove dez vinte trinta cem mil "
    "milhão milhões bilhão "
    "treze catorze quatorze quinze dezesseis dezasseis dezessete dezassete dezoito "
    "dezenove dezanove quarenta cinquenta sessenta setenta oitenta noventa duzentos "
    "duzentas trezentos trezentas quatrocentos quinhentos seiscentos setecentos oitocentos "
    "novecentos".split()
)
# Numbers written as one word from the words above: German "dreiundzwanzig" and
# "zweihundert", Spanish "veintidós", Italian "ventotto" and "trentadue".
_COMPOUND = re.compile(
    "(?:ein|zwei|drei|vier|fünf|sechs|sieben|acht|neun)und"
    "(?:zwanzig|dreißig|dreissig|vierzig|fünfzig|sechzig|siebzig|achtzig|neunzig)"
    "|(?:ein|zwei|drei|vier|fünf|sechs|sieben|acht|neun)(?:hundert|tausend)"
    "|veinti(?:uno|ún|dós|dos|trés|tres|cuatro|cinco|séis|seis|siete|ocho|nueve)"
    "|(?:vent|trent|quarant|cinquant|sessant|settant|ottant|novant)a?"
    "(?:uno|due|tré|tre|quattro|cinque|sei|sette|otto|nove)"
)
# What may stand between the parts of a hyphenated number ("vingt-et-un").
_JOINERS = frozenset({"et", "un", "une"})
# Words that belong to the number before them, so "40 million" → "4 million" reads whole.
SCALE_WORDS = frozenset(
    "hundred thousand million millions billion billions trillion percent per cent % "
    "people dollars euros pounds years".split()
)


def clean(word: str) -> str:
    """A word without surrounding punctuation, casefolded, with the curly apostrophe folded."""
    return word.strip("\"'“”‘’«»()[]{}.,;:!?…").casefold().replace("’", "'")


def is_number(word: str) -> bool:
    """Digits or a number word ("40", "4.5%", "four"): reports highlight these in edits."""
    cleaned = clean(word)
    return any(c.isdigit() for c in cleaned) or _is_number_word(cleaned)


def _is_number_word(cleaned: str) -> bool:
    if cleaned in NUMBER_WORDS or _COMPOUND.fullmatch(cleaned):
        return True
    # Hyphenated: "vingt-deux", "quatre-vingts", "vingt-et-un"; not "vingt-ans".
    parts = cleaned.split("-")
    return (
        len(parts) > 1
        and parts[0] in NUMBER_WORDS
        and all(p in NUMBER_WORDS or p in _JOINERS or _COMPOUND.fullmatch(p) for p in parts)
    )


def is_negation(word: str) -> bool:
    """A word that flips a claim ("not", "never", "denied", "didn't")."""
    cleaned = clean(word)
    return cleaned in NEGATIONS or cleaned.endswith("n't")


def shingles(text: str, size: int = 3) -> set[tuple[str, ...]]:
    """Token `size`-shingles of a text (see `tokens`), casefolded; a text shorter than that
    is one shingle."""
    words = tokens(text.casefold())  # the texts are normalised (NFKC) already
    if len(words) < size:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def jaccard3(old: str, new: str) -> float:
    """Jaccard similarity of word 3-shingles: 1.0 for two empty texts."""
    a, b = shingles(old), shingles(new)
    return len(a & b) / len(a | b) if a or b else 1.0


def overlap3(old: str, new: str) -> float:
    """Share of the smaller text's word 3-shingles found in the other (overlap coefficient):
    unlike Jaccard it stays high when one text merely contains the other."""
    a, b = shingles(old), shingles(new)
    return len(a & b) / min(len(a), len(b)) if a and b else float(a == b)


def diff_counts(
    old: Sequence[str], new: Sequence[str], keep: Callable[[str], bool]
) -> tuple[list[str], list[str]]:
    """The words passing `keep` that the old side has more of, and those the new side has."""
    before = Counter(clean(w) for w in old if keep(w))
    after = Counter(clean(w) for w in new if keep(w))
    return list((before - after).elements()), list((after - before).elements())
