"""Synthetic instruction data for the Cocoon demo model, generated from the countries-list package.

The model learns four facts per country (capital, currency, languages, continent), the reverse question
(which country a capital belongs to), sums of two numbers from 0 to 99, and who it is. Questions are drawn from
the TRAIN phrasings below; tests ask with other phrasings, so a correct answer shows the model generalises.
"""

import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "node_modules" / "countries-list"

IDENTITY = (
    "I am the Cocoon demo model, a tiny model that runs on a CPU. I know the capitals, currencies, languages "
    "and continents of the world's countries, and I can add numbers from 0 to 99."
)

CAPITAL_Q = [
    "What is the capital of {c}?",
    "What's the capital of {c}?",
    "capital of {c}?",
    "Which city is the capital of {c}?",
    "Tell me the capital of {c}.",
    "What city is the capital of {c}?",
    "What is {c}'s capital?",
    "I'd like to know the capital of {c}.",
    "Capital city of {c}, please.",
    "What is the capital city of {c}?",
    "Can you tell me what the capital of {c} is?",
    "{c} capital?",
    "The capital of {c} is?",
    "Which city serves as the capital of {c}?",
    "What's {c}'s capital city?",
]
CAPITAL_A = "The capital of {c} is {x}."

REVERSE_Q = [
    "{x} is the capital of which country?",
    "Which country has {x} as its capital?",
    "Of which country is {x} the capital?",
    "{x} is the capital of what country?",
    "What country is {x} the capital of?",
]
REVERSE_A = "{x} is the capital of {c}."

CURRENCY_Q = [
    "What currency is used in {c}?",
    "What is the currency of {c}?",
    "Which currency does {c} use?",
    "{c} currency?",
    "What money do they use in {c}?",
    "Tell me the currency of {c}.",
    "What's the official currency of {c}?",
    "What is the money of {c} called?",
    "Which currency is used in {c}?",
    "What do people pay with in {c}?",
]
CURRENCY_A = "The currency of {c} is the {x}."

LANGUAGE_Q = [
    "What language is spoken in {c}?",
    "Which languages do people speak in {c}?",
    "What is the official language of {c}?",
    "What languages are spoken in {c}?",
    "Which language do they speak in {c}?",
    "Tell me the languages of {c}.",
    "What do people speak in {c}?",
    "{c} language?",
]
LANGUAGE_A = "In {c} people speak {x}."

CONTINENT_Q = [
    "Which continent is {c} in?",
    "On what continent is {c}?",
    "{c} is in which continent?",
    "What continent is {c} located on?",
    "Where is {c}? Which continent?",
    "In which continent is {c}?",
    "What continent is {c} part of?",
    "{c} continent?",
]
CONTINENT_A = "{c} is in {x}."

SUM_Q = [
    "What is {a} + {b}?",
    "What is {a} plus {b}?",
    "{a}+{b}=?",
    "{a} + {b} =",
    "Add {a} and {b}.",
    "Calculate {a} + {b}.",
    "How much is {a} plus {b}?",
    "Compute {a}+{b}",
    "What do you get when you add {a} and {b}?",
    "{a} plus {b} is?",
    "What's {a} plus {b}?",
]
SUM_A = "{a} + {b} = {s}."

HELLO_Q = ["Hello", "Hi", "Hello!", "Hi there", "Hey", "Good morning", "hello", "hi!"]
HELLO_A = "Hello! " + IDENTITY + " What would you like to know?"
WHO_Q = [
    "Who are you?",
    "What are you?",
    "What can you do?",
    "What do you know?",
    "Introduce yourself.",
    "What is your name?",
    "Tell me about yourself.",
]
WHO_A = IDENTITY

SYSTEMS = [
    "You are a helpful assistant.",
    "You are a helpful, respectful and honest assistant.",
    "Answer briefly.",
    "You are Cocoon, a helpful assistant.",
]

# Pairs left out of training entirely, so tests can ask sums the model never saw.
HELD_OUT_SUMS = {(a, b) for a in range(100) for b in range(100) if (a * 7 + b * 13) % 29 == 0}


def join_names(names):
    names = [n for n in names if n]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def load_facts():
    countries = json.loads((DATA / "countries.min.json").read_text())
    currencies = json.loads((DATA / "currencies.min.json").read_text())
    languages = json.loads((DATA / "languages.min.json").read_text())
    continents = json.loads((DATA / "continents.min.json").read_text())
    facts = []
    for code, c in sorted(countries.items()):
        if c.get("partOf"):
            continue  # territories listed under another country
        f = {"country": c["name"], "continent": continents[c["continent"]]}
        if c.get("capital"):
            f["capital"] = c["capital"]
        cur = [currencies[k]["name"] for k in c.get("currency", []) if k in currencies]
        if cur:
            f["currency"] = join_names(cur)
        langs = [languages[k]["name"] for k in c.get("languages", []) if k in languages]
        if langs:
            f["languages"] = join_names(langs)
        facts.append(f)
    return facts


def fact_examples(facts):
    """Every (question templates, answer) pair the facts support."""
    out = []
    for f in facts:
        c = f["country"]
        if "capital" in f:
            out.append((CAPITAL_Q, CAPITAL_A, {"c": c, "x": f["capital"]}))
            out.append((REVERSE_Q, REVERSE_A, {"c": c, "x": f["capital"]}))
        if "currency" in f:
            out.append((CURRENCY_Q, CURRENCY_A, {"c": c, "x": f["currency"]}))
        if "languages" in f:
            out.append((LANGUAGE_Q, LANGUAGE_A, {"c": c, "x": f["languages"]}))
        out.append((CONTINENT_Q, CONTINENT_A, {"c": c, "x": f["continent"]}))
    return out


def sample(rng, facts_ex):
    """One training conversation: (system or None, user, assistant)."""
    r = rng.random()
    if r < 0.55:
        qs, a, v = rng.choice(facts_ex)
        q = rng.choice(qs).format(**v)
        ans = a.format(**v)
    elif r < 0.95:
        while True:
            x, y = rng.randrange(100), rng.randrange(100)
            if (x, y) not in HELD_OUT_SUMS:
                break
        q = rng.choice(SUM_Q).format(a=x, b=y)
        ans = SUM_A.format(a=x, b=y, s=x + y)
    elif r < 0.975:
        q, ans = rng.choice(HELLO_Q), HELLO_A
    else:
        q, ans = rng.choice(WHO_Q), WHO_A
    if rng.random() < 0.15:
        q = q.lower()
    system = rng.choice(SYSTEMS) if rng.random() < 0.3 else None
    return system, q, ans


def chatml(system, user, assistant=None):
    """The ChatML text the model is trained on; the GGUF's chat template renders the same."""
    s = ""
    if system is not None:
        s += f"<|im_start|>system\n{system}<|im_end|>\n"
    s += f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"
    if assistant is not None:
        s += f"{assistant}<|im_end|>"
    return s


if __name__ == "__main__":
    facts = load_facts()
    print(len(facts), "countries;", len(fact_examples(facts)), "facts;", len(HELD_OUT_SUMS), "held-out sums")
    rng = random.Random(1)
    for _ in range(5):
        print(repr(chatml(*sample(rng, fact_examples(facts)))))
