"""Words, answers and the official VQA v2 rules for comparing them.

* ``normalize_answer``: the VQA v2 evaluation's answer processing (punctuation, number words to
  digits, articles dropped, contractions fixed).
* ``vqa_accuracy``: min(1, matches/3) averaged over the 10 leave-one-out subsets of the human answers.
* ``question_type``: the longest of the 64 VQA v2 question-type prefixes the question starts with
  ("none of the above", the 65th type, when it starts with none).
* ``answer_type``: yes/no, number or other, as VQA v2 labels them.
* ``Vocab`` (question words, with PAD/UNK) and ``AnswerVocab`` (the classifier's output classes).
"""
from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

# --- answer normalisation (VQA v2 evaluation rules) -----------------------------------------------

_NUMBER_WORDS = {
    "none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10",
}
_ARTICLES = frozenset({"a", "an", "the"})
# the evaluation's contraction table (keys are compared after lower-casing)
_CONTRACTIONS = {
    "aint": "ain't", "arent": "aren't", "cant": "can't", "couldve": "could've", "couldnt": "couldn't",
    "couldn'tve": "couldn't've", "couldnt've": "couldn't've", "didnt": "didn't", "doesnt": "doesn't",
    "dont": "don't", "hadnt": "hadn't", "hadnt've": "hadn't've", "hadn'tve": "hadn't've", "hasnt": "hasn't",
    "havent": "haven't", "hed": "he'd", "hed've": "he'd've", "he'dve": "he'd've", "hes": "he's",
    "howd": "how'd", "howll": "how'll", "hows": "how's", "id've": "i'd've", "i'dve": "i'd've", "im": "i'm",
    "ive": "i've", "isnt": "isn't", "itd": "it'd", "itd've": "it'd've", "it'dve": "it'd've", "itll": "it'll",
    "lets": "let's", "maam": "ma'am", "mightnt": "mightn't", "mightnt've": "mightn't've",
    "mightn'tve": "mightn't've", "mightve": "might've", "mustnt": "mustn't", "mustve": "must've",
    "neednt": "needn't", "notve": "not've", "oclock": "o'clock", "oughtnt": "oughtn't",
    "ow's'at": "'ow's'at", "'ows'at": "'ow's'at", "'ow'sat": "'ow's'at", "shant": "shan't",
    "shed've": "she'd've", "she'dve": "she'd've", "shes": "she's", "shouldve": "should've",
    "shouldnt": "shouldn't", "shouldnt've": "shouldn't've", "shouldn'tve": "shouldn't've",
    "somebody'd": "somebodyd", "somebodyd've": "somebody'd've", "somebody'dve": "somebody'd've",
    "somebodyll": "somebody'll", "somebodys": "somebody's", "someoned": "someone'd",
    "someoned've": "someone'd've", "someone'dve": "someone'd've", "someonell": "someone'll",
    "someones": "someone's", "somethingd": "something'd", "somethingd've": "something'd've",
    "something'dve": "something'd've", "somethingll": "something'll", "thats": "that's",
    "thered": "there'd", "thered've": "there'd've", "there'dve": "there'd've", "therere": "there're",
    "theres": "there's", "theyd": "they'd", "theyd've": "they'd've", "they'dve": "they'd've",
    "theyll": "they'll", "theyre": "they're", "theyve": "they've", "twas": "'twas", "wasnt": "wasn't",
    "wed've": "we'd've", "we'dve": "we'd've", "weve": "we've", "werent": "weren't", "whatll": "what'll",
    "whatre": "what're", "whats": "what's", "whatve": "what've", "whens": "when's", "whered": "where'd",
    "wheres": "where's", "whereve": "where've", "whod": "who'd", "whod've": "who'd've", "who'dve": "who'd've",
    "wholl": "who'll", "whos": "who's", "whove": "who've", "whyll": "why'll", "whyre": "why're",
    "whys": "why's", "wont": "won't", "wouldve": "would've", "wouldnt": "wouldn't",
    "wouldnt've": "wouldn't've", "wouldn'tve": "wouldn't've", "yall": "y'all", "yall'll": "y'all'll",
    "y'allll": "y'all'll", "yall'd've": "y'all'd've", "y'alld've": "y'all'd've", "y'all'dve": "y'all'd've",
    "youd": "you'd", "youd've": "you'd've", "you'dve": "you'd've", "youll": "you'll", "youre": "you're",
    "youve": "you've",
}
_PUNCT = (";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!")
_DIGIT_COMMA_DIGIT = re.compile(r"(\d)(,)(\d)")
_PERIOD_NOT_DECIMAL = re.compile(r"\.(?!\d)")


def _process_punctuation(text: str) -> str:
    out = text
    has_thousands = _DIGIT_COMMA_DIGIT.search(text) is not None
    for p in _PUNCT:
        # as in the official evaluation: a mark next to a space (or any text with "1,000"-style
        # numbers) is deleted; a mark inside a word becomes a space ("black-and-white")
        if (p + " " in text or " " + p in text) or has_thousands:
            out = out.replace(p, "")
        else:
            out = out.replace(p, " ")
    return _PERIOD_NOT_DECIMAL.sub("", out)


def _process_digits_articles(text: str) -> str:
    words = []
    for word in text.lower().split():
        word = _NUMBER_WORDS.get(word, word)
        if word not in _ARTICLES:
            words.append(_CONTRACTIONS.get(word, word))
    return " ".join(words)


@functools.lru_cache(maxsize=1 << 16)
def normalize_answer(answer: str) -> str:
    """The VQA v2 evaluation's normal form of an answer ("Two dogs." -> "2 dogs"). Memoised: a
    project has few distinct answers and hundreds of thousands of uses of them (vocabularies, soft
    scores and count targets of a training set: most of the time it took to build the data of a
    240,000-question project)."""
    text = answer.replace("\n", " ").replace("\t", " ").strip()
    return _process_digits_articles(_process_punctuation(text))


def vqa_accuracy(predicted: str, human_answers: Sequence[str]) -> float:
    """VQA v2 accuracy of one predicted answer against the (usually 10) human answers.

    For each human answer left out in turn, min(1, matches among the others / 3); the mean of those.
    With a single human answer it is plain exact match (after normalisation).
    """
    if not human_answers:
        raise ValueError("vqa_accuracy needs at least one human answer")
    pred = normalize_answer(predicted)
    gts = [normalize_answer(a) for a in human_answers]
    if len(gts) == 1:
        return 1.0 if pred == gts[0] else 0.0
    matches = sum(1 for g in gts if g == pred)
    total = 0.0
    for g in gts:
        others = matches - (1 if g == pred else 0)
        total += min(1.0, others / 3.0)
    return total / len(gts)


# --- question and answer types ----------------------------------------------------------------------

#: the question-type prefixes of VQA v2 (QuestionTypes/mscoco_question_types.txt of the VQA API)
VQA_QUESTION_TYPES = (
    "how many", "is the", "what", "what color is the", "what is the", "is this", "is this a", "what is",
    "are the", "what kind of", "is there a", "what type of", "is it", "what are the", "where is the",
    "is there", "does the", "what color are the", "are these", "are there", "which", "is", "what is the man",
    "is the man", "are", "how", "does this", "what is on the", "what does the", "how many people are",
    "what is in the", "what is this", "do", "what are", "are they", "what time", "what sport is",
    "are there any", "is he", "what color is", "why", "where are the", "what color", "who is",
    "what animal is", "is the woman", "is this an", "do you", "how many people are in", "what room is",
    "has", "is this person", "what is the woman", "can you", "why is the", "is the person",
    "what is the color of the", "what is the person", "could", "was", "is that a", "what number is",
    "what is the name", "what brand",
)
NO_QUESTION_TYPE = "none of the above"
_QTYPE_WORDS = sorted((tuple(t.split()) for t in VQA_QUESTION_TYPES), key=len, reverse=True)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

YES_NO = "yes/no"
NUMBER = "number"
OTHER = "other"
ANSWER_TYPES = (YES_NO, NUMBER, OTHER)
_YES_NO_STARTS = frozenset(
    "is are was were do does did can could has have had will would should shall may might must am".split()
)


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens ("What's left of the red-cube?" -> what's left of the red cube)."""
    return _WORD.findall(text.lower())


def question_type(question: str) -> str:
    """The longest VQA v2 question-type prefix of ``question`` (by whole words)."""
    words = tuple(tokenize(question))
    for qt in _QTYPE_WORDS:
        if words[: len(qt)] == qt:
            return " ".join(qt)
    return NO_QUESTION_TYPE


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def answer_type(answer: str | None, question: str | None = None) -> str:
    """yes/no, number or other: from the answer when there is one, else guessed from the question."""
    if answer is not None and answer.strip():
        a = normalize_answer(answer)
        if a in ("yes", "no"):
            return YES_NO
        if _is_number(a):
            return NUMBER
        return OTHER
    if question:
        words = tokenize(question)
        if words[:2] == ["how", "many"] or words[:3] == ["what", "number", "is"]:
            return NUMBER
        if words and words[0] in _YES_NO_STARTS:
            return YES_NO
    return OTHER


def majority_answer(answers: Iterable[str]) -> str | None:
    """The most frequent normalised answer (ties: the first seen), as VQA's multiple_choice_answer."""
    counts = Counter()
    first: dict[str, int] = {}
    for i, a in enumerate(answers):
        n = normalize_answer(a)
        counts[n] += 1
        first.setdefault(n, i)
    if not counts:
        return None
    return max(counts, key=lambda k: (counts[k], -first[k]))


# --- vocabularies -------------------------------------------------------------------------------------

PAD, UNK = "<pad>", "<unk>"


@dataclass
class Vocab:
    """Question words -> ids. Id 0 is padding, id 1 stands for every unknown word."""

    tokens: list[str] = field(default_factory=lambda: [PAD, UNK])

    def __post_init__(self) -> None:
        if self.tokens[:2] != [PAD, UNK]:
            raise ValueError("a Vocab starts with <pad>, <unk>")
        self._index = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def build(cls, questions: Iterable[str], min_count: int = 1) -> "Vocab":
        counts = Counter(w for q in questions for w in tokenize(q))
        words = sorted(w for w, c in counts.items() if c >= min_count)
        return cls([PAD, UNK, *words])

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, question: str, max_len: int | None = None) -> list[int]:
        ids = [self._index.get(w, 1) for w in tokenize(question)]
        return ids[:max_len] if max_len else ids

    def unknown_words(self, question: str) -> list[str]:
        return [w for w in tokenize(question) if w not in self._index]

    def to_list(self) -> list[str]:
        return list(self.tokens)


@dataclass
class AnswerVocab:
    """The classifier's classes: normalised answers, most frequent first."""

    answers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._index = {a: i for i, a in enumerate(self.answers)}
        if len(self._index) != len(self.answers):
            raise ValueError("duplicate answers in an AnswerVocab")

    @classmethod
    def build(cls, answers: Iterable[str], min_count: int = 1, max_size: int | None = None) -> "AnswerVocab":
        counts = Counter(normalize_answer(a) for a in answers if a is not None)
        ranked = sorted((a for a, c in counts.items() if c >= min_count and a), key=lambda a: (-counts[a], a))
        return cls(ranked[:max_size] if max_size else ranked)

    def __len__(self) -> int:
        return len(self.answers)

    def __contains__(self, answer: str) -> bool:
        return normalize_answer(answer) in self._index

    def index(self, answer: str) -> int:
        """Class index of ``answer``, or -1 if the model cannot output it yet."""
        return self._index.get(normalize_answer(answer), -1)

    def to_list(self) -> list[str]:
        return list(self.answers)
