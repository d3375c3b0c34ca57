"""bAbI-style tasks, generated locally from a seed (no download).

A small world of people, places and objects; each story is a few sentences about it and one
question of one task:

* ``single_fact`` (bAbI task 1): "Where is Mary?", the place Mary went to last;
* ``two_facts`` (task 2): "Where is the football?", where the person holding it went last (two
  supporting facts: who took it, where they went);
* ``counting`` (task 7): "How many objects is Daniel carrying?", none / one / two / three;
* ``yes_no`` (task 6): "Is Sandra in the garden?", yes or no (balanced).

Every story also names its supporting sentences (``supporting``: 0-based indexes), which the tests
and the benchmark compare with the model's attention.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

PEOPLE = ("Mary", "John", "Daniel", "Sandra")
PLACES = ("bathroom", "hallway", "garden", "office", "kitchen", "bedroom")
OBJECTS = ("apple", "football", "milk")
MOVES = ("moved to", "went to", "journeyed to", "travelled to", "went back to")
TAKES = ("picked up", "got", "grabbed", "took")
DROPS = ("dropped", "discarded", "put down", "left")
NUMBERS = ("none", "one", "two", "three")
TASKS = ("single_fact", "two_facts", "counting", "yes_no")
#: the answer type each task's answers are (VQA Studio's answer types)
ANSWER_TYPES = {"single_fact": "other", "two_facts": "other", "counting": "number", "yes_no": "yes/no"}


@dataclass
class Story:
    sentences: list[str]
    question: str
    answer: str
    task: str
    supporting: list[int] = field(default_factory=list)
    split: str = "train"

    def to_json(self) -> dict:
        return {"sentences": self.sentences, "split": self.split,
                "questions": [{"question": self.question, "answer": self.answer, "task": self.task,
                               "supporting": self.supporting}]}


def _move(rng: random.Random, who: str, where: str) -> str:
    return f"{who} {rng.choice(MOVES)} the {where}."


def single_fact(rng: random.Random) -> Story:
    n = rng.randint(2, 8)
    sentences, last = [], {}
    for k in range(n):
        who, where = rng.choice(PEOPLE), rng.choice(PLACES)
        sentences.append(_move(rng, who, where))
        last[who] = (where, k)
    who = rng.choice(sorted(last))
    where, k = last[who]
    return Story(sentences, f"Where is {who}?", where, "single_fact", [k])


def yes_no(rng: random.Random) -> Story:
    story = single_fact(rng)
    who = story.question[len("Where is "):-1]
    asked = story.answer if rng.random() < 0.5 else rng.choice([p for p in PLACES if p != story.answer])
    return Story(story.sentences, f"Is {who} in the {asked}?", "yes" if asked == story.answer else "no",
                 "yes_no", story.supporting)


def two_facts(rng: random.Random) -> Story:
    """Someone takes an object and moves (perhaps more than once; others move too): where is it?"""
    while True:
        sentences, place, holder, took = [], {}, {}, {}
        for _ in range(rng.randint(3, 7)):
            who = rng.choice(PEOPLE)
            free = [o for o in OBJECTS if o not in holder]
            if free and who in place and rng.random() < 0.35:
                obj = rng.choice(free)
                holder[obj], took[obj] = who, len(sentences)
                sentences.append(f"{who} {rng.choice(TAKES)} the {obj}.")
            else:
                place[who] = (rng.choice(PLACES), len(sentences))
                sentences.append(_move(rng, who, place[who][0]))
        if holder:
            obj = rng.choice(sorted(holder))
            where, k = place[holder[obj]]
            return Story(sentences, f"Where is the {obj}?", where, "two_facts", sorted({took[obj], k}))


def counting(rng: random.Random) -> Story:
    """People take and drop objects (and move about): how many is one of them carrying?"""
    sentences, carry, support = [], {p: set() for p in PEOPLE}, {p: [] for p in PEOPLE}
    for _ in range(rng.randint(2, 8)):
        who = rng.choice(PEOPLE)
        held = {o for s in carry.values() for o in s}
        free = [o for o in OBJECTS if o not in held]
        r = rng.random()
        if carry[who] and r < 0.3:
            obj = rng.choice(sorted(carry[who]))
            carry[who].discard(obj)
            sentences.append(f"{who} {rng.choice(DROPS)} the {obj}.")
            support[who].append(len(sentences) - 1)
        elif free and r < 0.8:
            obj = rng.choice(free)
            carry[who].add(obj)
            sentences.append(f"{who} {rng.choice(TAKES)} the {obj}.")
            support[who].append(len(sentences) - 1)
        else:
            sentences.append(_move(rng, who, rng.choice(PLACES)))
    who = rng.choice([p for p in PEOPLE if support[p]] or list(PEOPLE))
    return Story(sentences, f"How many objects is {who} carrying?", NUMBERS[len(carry[who])], "counting",
                 support[who])


GENERATORS = {"single_fact": single_fact, "two_facts": two_facts, "counting": counting, "yes_no": yes_no}


def generate(n: int, seed: int = 0, tasks: tuple[str, ...] = TASKS, val: float = 0.1, test: float = 0.1
             ) -> list[Story]:
    """``n`` stories, the tasks taking turns, each with its split (``val`` / ``test`` fractions,
    seeded): the same arguments give the same stories."""
    unknown = [t for t in tasks if t not in GENERATORS]
    if unknown:
        raise ValueError(f"unknown tasks {unknown} (known: {', '.join(TASKS)})")
    rng = random.Random(seed)
    out = []
    for k in range(n):
        story = GENERATORS[tasks[k % len(tasks)]](rng)
        r = rng.random()
        story.split = "val" if r < val else "test" if r < val + test else "train"
        out.append(story)
    return out
