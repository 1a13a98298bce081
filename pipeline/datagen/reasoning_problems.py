"""Puzzles, word problems and logic questions with fresh numbers and names on every call.

Reasoning prompts are where templates repeat most (a handful of classic puzzles), so these
generators draw names, quantities and settings at random; the answer is never needed, only a
realistic question that asks for a conclusion reached by logic or arithmetic.
"""

from __future__ import annotations

import random

_NAMES = [
    "Alice",
    "Bob",
    "Carmen",
    "Deepak",
    "Emma",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jamal",
    "Kate",
    "Leo",
    "Mia",
    "Nico",
    "Omar",
    "Pia",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Uma",
    "Victor",
    "Wen",
    "Yusuf",
]
_ITEMS = [
    ("apples", "a bag"),
    ("pencils", "a box"),
    ("cupcakes", "a tray"),
    ("marbles", "a jar"),
    ("tickets", "a booklet"),
    ("stickers", "a sheet"),
    ("eggs", "a carton"),
    ("books", "a shelf"),
]
_NONSENSE = [
    "bloops",
    "razzies",
    "lazzies",
    "flimps",
    "grobs",
    "zorks",
    "wibbles",
    "quarks",
    "snerds",
    "tovs",
]
_GROUPS = [
    "doctors",
    "painters",
    "chess players",
    "vegetarians",
    "runners",
    "teachers",
    "musicians",
    "engineers",
    "students in my class",
    "cats in the shelter",
    "managers",
    "pilots",
]
_TRAITS = [
    "early risers",
    "left-handed",
    "coffee drinkers",
    "afraid of heights",
    "good at math",
    "bilingual",
    "tall",
    "allergic to nuts",
    "night owls",
    "members of the club",
]


def _two_names(rng: random.Random) -> tuple[str, str]:
    a, b = rng.sample(_NAMES, 2)
    return a, b


def trains(rng: random.Random) -> str:
    d = rng.choice([120, 180, 240, 300, 360, 450, 600])
    v1, v2 = rng.sample([40, 50, 60, 70, 80, 90, 100, 120], 2)
    c1, c2 = rng.sample(["Boston", "Lyon", "Osaka", "Denver", "Leeds", "Porto", "Kraków", "Austin"], 2)
    return (
        f"A train leaves {c1} at {v1} km/h and another leaves {c2} at {v2} km/h heading toward it. "
        f"The cities are {d} km apart. When and where do they meet?"
    )


def ages(rng: random.Random) -> str:
    a, b = _two_names(rng)
    k = rng.randint(2, 4)
    y = rng.randint(3, 12)
    return (
        f"{a} is {k} times as old as {b}. In {y} years, {a} will be twice as old as {b}. "
        f"How old are they now?"
    )


def work_rate(rng: random.Random) -> str:
    a, b = _two_names(rng)
    ta, tb = rng.sample([2, 3, 4, 5, 6, 8, 10, 12], 2)
    job = rng.choice(
        ["paint a fence", "mow the lawn", "fill a pool", "clean the office", "assemble the shelves"]
    )
    return f"{a} can {job} in {ta} hours and {b} can do it in {tb} hours. How long if they work together?"


def percentages(rng: random.Random) -> str:
    p1, p2 = rng.sample([10, 15, 20, 25, 30, 40, 50], 2)
    price = rng.choice([40, 80, 120, 250, 999])
    thing = rng.choice(["jacket", "laptop", "bike", "sofa", "phone", "concert ticket"])
    return (
        f"A {thing} costs ${price}. The price goes up {p1}% and then down {p2}%. "
        f"Is it cheaper or more expensive than the original, and by how much?"
    )


def items_puzzle(rng: random.Random) -> str:
    item, container = rng.choice(_ITEMS)
    a, b = _two_names(rng)
    n = rng.randint(12, 60)
    g = rng.randint(2, 9)
    return (
        f"{a} has {container} of {n} {item}. She gives {b} {g} more than a third of them and keeps the rest. "
        f"How many {item} does {a} keep?"
    )


def bat_ball(rng: random.Random) -> str:
    total = rng.choice(["1.10", "2.20", "3.50", "11", "1.30"])
    diff = rng.choice(["1.00", "2.00", "3.00", "10", "1.20"])
    pair = rng.choice(
        [("a bat", "a ball"), ("a pen", "a notebook"), ("a sandwich", "a drink"), ("a lamp", "a bulb")]
    )
    return f"{pair[0].capitalize()} and {pair[1]} cost {total} in total. {pair[0].capitalize()} costs {diff} more than {pair[1]}. How much is {pair[1]}?"


def machines(rng: random.Random) -> str:
    n = rng.choice([3, 4, 5, 6, 7, 8, 10])
    m = rng.choice([50, 100, 120, 200])
    thing = rng.choice(["machines", "printers", "bakers", "robots"])
    product = rng.choice(["widgets", "pages", "loaves", "parts"])
    return f"If {n} {thing} make {n} {product} in {n} minutes, how long would {m} {thing} take to make {m} {product}?"


def handshakes(rng: random.Random) -> str:
    n = rng.randint(5, 30)
    setting = rng.choice(
        [
            "at a party",
            "at a conference table",
            "in a chess tournament (everyone plays everyone once)",
            "at a team meeting",
            "in a round-robin league",
        ]
    )
    return f"{n} people are {setting} and each pair interacts exactly once. How many interactions are there in total?"


def probability(rng: random.Random) -> str:
    return rng.choice(
        [
            f"What's the probability of rolling a total of {rng.randint(3, 11)} with two fair dice?",
            f"I draw {rng.randint(2, 4)} cards from a standard deck without replacement. What's the chance they're all hearts?",
            f"If I flip a fair coin {rng.randint(3, 10)} times, what's the probability of getting at least one head?",
            f"A bag has {rng.randint(2, 9)} red and {rng.randint(2, 9)} blue marbles. I take two without looking. Probability both are red?",
            f"How many people do you need in a room for a better than {rng.choice([50, 70, 90])}% chance two share a birthday?",
            f"A test for a disease is {rng.choice([90, 95, 99])}% accurate and {rng.choice([1, 2, 5])}% of people have the disease. "
            "If I test positive, how likely is it that I actually have it?",
            "In the Monty Hall problem, is it really better to switch doors? Walk me through why.",
            f"A family has {rng.randint(2, 4)} children. Given that at least one is a girl, what's the probability all are girls?",
        ]
    )


def syllogism(rng: random.Random) -> str:
    if rng.random() < 0.5:
        a, b, c = rng.sample(_NONSENSE, 3)
        return f"If all {a} are {b} and all {b} are {c}, are all {a} definitely {c}?"
    g = rng.choice(_GROUPS)
    t1, t2 = rng.sample(_TRAITS, 2)
    form = rng.choice(
        [
            f"Some {g} are {t1}. All people who are {t1} are {t2}. Does it follow that some {g} are {t2}?",
            f"No {g} are {t1}. Some {t2} are {g}. Can we conclude that some {t2} are not {t1}?",
            f"All {g} are {t1}. Sam is {t1}. Is Sam one of the {g}?",
            f"Every one of the {g} is {t1}, and nobody who is {t1} is {t2}. What can we say about {g} being {t2}?",
        ]
    )
    return form


def knights_knaves(rng: random.Random) -> str:
    a, b = _two_names(rng)
    s = rng.choice(
        [
            f"'{b} and I are both knaves.'",
            "'At least one of us is a knave.'",
            f"'{b} is a knight.'",
            "'We are the same kind.'",
        ]
    )
    return (
        f"On an island, knights always tell the truth and knaves always lie. {a} says {s} "
        f"{b} says nothing. What are {a} and {b}?"
    )


def who_owns(rng: random.Random) -> str:
    names = rng.sample(_NAMES, 3)
    pets = rng.sample(["cat", "dog", "parrot", "fish", "rabbit", "turtle"], 3)
    return (
        f"{names[0]}, {names[1]} and {names[2]} each have a different pet: a {pets[0]}, a {pets[1]} and a {pets[2]}. "
        f"{names[0]} is allergic to fur. {names[1]} doesn't own the {pets[2]}. "
        f"The {pets[0]} belongs to whoever lives next to {names[2]}. Who owns which pet?"
    )


def sequence(rng: random.Random) -> str:
    kind = rng.randrange(4)
    a = rng.randint(1, 9)
    d = rng.randint(2, 7)
    if kind == 0:
        seq = [a + d * i for i in range(5)]
    elif kind == 1:
        seq = [a * d**i for i in range(5)]
    elif kind == 2:
        seq = [a + i * i for i in range(5)]
    else:
        seq = [a, a + d]
        for _ in range(3):
            seq.append(seq[-1] + seq[-2])
    return f"What comes next in the sequence {', '.join(map(str, seq))}, ...?"


def clock(rng: random.Random) -> str:
    h, m = rng.randint(1, 12), rng.choice([10, 15, 20, 25, 30, 40, 45, 50])
    return f"What's the angle between the hour and minute hands at {h}:{m:02d}?"


def weighing(rng: random.Random) -> str:
    n = rng.choice([8, 9, 12, 27])
    w = rng.choice([2, 3])
    return (
        f"I have {n} identical-looking coins and one is lighter. With a balance scale, can I find it in {w} weighings? "
        "How?"
    )


def fermi(rng: random.Random) -> str:
    q = rng.choice(
        [
            "piano tuners work in Chicago",
            "golf balls fit in a school bus",
            "litres of coffee are drunk in London each day",
            "windows there are in Manhattan",
            "dentists there are in Canada",
            "pizzas are eaten in the US every day",
            "hairs are on a human head",
            "trees are in Central Park",
        ]
    )
    return f"Estimate how many {q}. Walk through your assumptions."


def proof(rng: random.Random) -> str:
    return "Prove that " + rng.choice(
        [
            "the square root of 2 is irrational.",
            "there are infinitely many prime numbers.",
            "the sum of the first n odd numbers is n squared.",
            "n^3 - n is always divisible by 6.",
            "the sum of the angles of a triangle is 180 degrees.",
            "any two consecutive integers are coprime.",
            "for any integer a > 1, a^n - 1 is divisible by a - 1.",
            "a graph with n vertices and more than n-1 edges has a cycle.",
            "the product of two odd numbers is odd.",
        ]
    )


def comparison(rng: random.Random) -> str:
    a, b = rng.choice(
        [
            ("2^100", "10^30"),
            ("100!", "2^500"),
            ("9^9", "10^8"),
            ("3^40", "4^30"),
            ("sqrt(5)+sqrt(7)", "2*sqrt(6)"),
        ]
    )
    return f"Which is bigger, {a} or {b}? Reason it out without a calculator."


def impossible(rng: random.Random) -> str:
    return rng.choice(
        [
            "Can you tile a chessboard with two opposite corners removed using 31 dominoes? Why or why not?",
            "Is it possible to walk through the seven bridges of Königsberg crossing each exactly once?",
            f"Can {rng.choice([5, 7, 9, 11])} people each shake hands with exactly 3 others? Justify it.",
            "A farmer needs to get a wolf, a goat and a cabbage across a river with a boat that holds one item. How?",
            f"You have a {rng.choice([3, 5])}-litre jug and a {rng.choice([7, 8, 9])}-litre jug. How do you measure exactly 4 litres?",
            "Three switches outside a room control one bulb inside. You may enter once. How do you find the right switch?",
            f"{rng.randint(4, 6)} prisoners wear hats of two colours and can see each other's hats but not their own. What strategy maximises how many guess right?",
        ]
    )


def arithmetic_story(rng: random.Random) -> str:
    a, b = _two_names(rng)
    return rng.choice(
        [
            f"{a} saves ${rng.randint(5, 60)} a week. {b} starts with ${rng.randint(100, 500)} and spends ${rng.randint(5, 30)} a week. "
            f"After how many weeks do they have the same amount?",
            f"A recipe for {rng.randint(2, 6)} people needs {rng.randint(100, 500)} g of flour. How much for {rng.randint(7, 20)} people?",
            f"If a car uses {rng.randint(5, 12)} litres per 100 km and fuel costs {rng.randint(12, 25) / 10:.2f} per litre, "
            f"what does a {rng.randint(150, 900)} km trip cost?",
            f"A pool fills in {rng.randint(2, 9)} hours and drains in {rng.randint(10, 20)} hours. With both open, how long to fill?",
            f"What's {rng.randint(5, 45)}% of {rng.randint(80, 2000)}, and how did you get it?",
            f"{a} walks at {rng.randint(3, 6)} km/h and {b} cycles at {rng.randint(12, 25)} km/h. {b} leaves "
            f"{rng.randint(10, 60)} minutes later. When does {b} catch up?",
            f"The average of {rng.randint(4, 9)} numbers is {rng.randint(10, 90)}. One number is removed and the average "
            f"becomes {rng.randint(10, 90)}. What was the removed number?",
        ]
    )


_RIDDLES = [
    "What has keys but can't open locks?",
    "What gets wetter the more it dries?",
    "I speak without a mouth and hear without ears. What am I?",
    "What has a neck but no head?",
    "The more you take, the more you leave behind. What are they?",
    "What can travel around the world while staying in a corner?",
    "What has to be broken before you can use it?",
    "What goes up but never comes down?",
    "A man pushes his car to a hotel and tells the owner he's bankrupt. Why?",
    "A woman shoots her husband, holds him underwater, then hangs him. Later they go to dinner. How?",
    "What comes once in a minute, twice in a moment, but never in a thousand years?",
    "Forward I am heavy, backward I am not. What am I?",
    "What has cities but no houses, forests but no trees, and water but no fish?",
]


def riddle(rng: random.Random) -> str:
    return rng.choice(_RIDDLES)


WORD_PROBLEMS = [
    trains,
    ages,
    work_rate,
    percentages,
    items_puzzle,
    bat_ball,
    machines,
    handshakes,
    probability,
    syllogism,
    knights_knaves,
    who_owns,
    sequence,
    clock,
    weighing,
    fermi,
    comparison,
    impossible,
    arithmetic_story,
]


def word_problem(rng: random.Random) -> str:
    """Any of the generators above, chosen uniformly."""
    return rng.choice(WORD_PROBLEMS)(rng)
