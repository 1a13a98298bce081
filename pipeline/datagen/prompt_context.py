"""Pasted context blocks for generated prompts: code, tables, emails, articles, foreign text.

Real prompts often carry a block the person pasted (a stack trace, a CSV, an email thread,
a paragraph in Spanish). Each generator here takes a `random.Random` and returns one such
block, built from parts so that blocks rarely repeat. The vocabulary of a block says nothing
about the intent on purpose: the same CSV appears under "summarize this", "what trend is this"
and "write pandas code for this", so the model must read the instruction, not the payload.
"""

from __future__ import annotations

import random

# ---------------------------------------------------------------- code

_NAMES = [
    "items",
    "data",
    "users",
    "orders",
    "rows",
    "values",
    "records",
    "scores",
    "prices",
    "nums",
    "words",
    "lines",
    "entries",
    "results",
    "payload",
    "events",
    "tasks",
    "files",
]
_FUNCS = [
    "process",
    "handle",
    "compute_total",
    "parse_input",
    "get_user",
    "load_data",
    "calc",
    "update_cart",
    "format_date",
    "clean_text",
    "merge_lists",
    "find_max",
    "fetch_orders",
    "validate",
    "transform",
    "build_report",
    "count_words",
    "normalize",
]

_CODE_TEMPLATES = {
    "python": [
        "def {f}({n}):\n    total = 0\n    for i in range(len({n})):\n        total += {n}[i]\n    return total / len({n})",
        "def {f}(path):\n    with open(path) as fh:\n        {n} = fh.readlines()\n    return [l.strip() for l in {n} if l]",
        "import requests\n\ndef {f}(url):\n    r = requests.get(url)\n    return r.json()['{n}']",
        "class Cart:\n    def __init__(self):\n        self.{n} = []\n\n    def add(self, item, qty=1):\n        self.{n}.append((item, qty))\n\n    def total(self):\n        return sum(p * q for p, q in self.{n})",
        "{n} = [3, 1, 4, 1, 5, 9, 2, 6]\nfor i in range(len({n})):\n    for j in range(len({n}) - i - 1):\n        if {n}[j] > {n}[j + 1]:\n            {n}[j], {n}[j + 1] = {n}[j + 1], {n}[j]\nprint({n})",
        "def {f}(d, key):\n    if key in d.keys() == True:\n        return d[key]\n    else:\n        return None",
        "import pandas as pd\ndf = pd.read_csv('{n}.csv')\ndf['month'] = pd.to_datetime(df['date']).dt.month\nprint(df.groupby('month')['amount'].sum())",
        "async def {f}(session, ids):\n    out = []\n    for i in ids:\n        resp = await session.get(f'/api/{n}/{{i}}')\n        out.append(await resp.json())\n    return out",
        "def {f}(s):\n    return s[::-1] == s",
        "try:\n    value = int(input('Enter a number: '))\nexcept:\n    pass\nprint(value * 2)",
    ],
    "javascript": [
        "function {f}({n}) {{\n  let out = [];\n  for (var i = 0; i <= {n}.length; i++) {{\n    out.push({n}[i] * 2);\n  }}\n  return out;\n}}",
        "const {f} = async (id) => {{\n  const res = await fetch(`/api/{n}/${{id}}`);\n  return res.json();\n}};",
        "document.querySelector('#btn').addEventListener('click', function() {{\n  const val = document.getElementById('{n}').value;\n  if (val == '') alert('empty');\n}});",
        "useEffect(() => {{\n  fetch('/api/{n}').then(r => r.json()).then(set{N});\n}});",
        "const total = {n}.reduce((acc, x) => acc + x.price * x.qty);",
    ],
    "typescript": [
        "interface User {{\n  id: number;\n  name: string;\n  email?: string;\n}}\n\nfunction {f}({n}: User[]): string[] {{\n  return {n}.map(u => u.email);\n}}",
        "export function {f}<T>(xs: T[], key: keyof T) {{\n  return xs.sort((a, b) => a[key] > b[key] ? 1 : -1);\n}}",
    ],
    "sql": [
        "SELECT customer_id, COUNT(*)\nFROM {n}\nWHERE created_at > '2024-01-01'\nGROUP BY customer_id\nHAVING COUNT(*) > 5;",
        "SELECT u.name, o.total\nFROM users u, {n} o\nWHERE u.id = o.user_id\nORDER BY o.total DESC;",
        "UPDATE {n} SET status = 'closed' WHERE updated_at < NOW() - INTERVAL 30 DAY",
    ],
    "java": [
        "public int {f}(int[] {n}) {{\n    int max = 0;\n    for (int i = 0; i < {n}.length; i++) {{\n        if ({n}[i] > max) max = {n}[i];\n    }}\n    return max;\n}}",
        "List<String> {n} = new ArrayList<>();\nfor (String s : {n}) {{\n    if (s.isEmpty()) {n}.remove(s);\n}}",
    ],
    "go": [
        "func {f}({n} []int) int {{\n    sum := 0\n    for _, v := range {n} {{\n        sum += v\n    }}\n    return sum / len({n})\n}}",
        "resp, err := http.Get(url)\ndefer resp.Body.Close()\nif err != nil {{\n    log.Fatal(err)\n}}",
    ],
    "bash": [
        "for f in *.log; do\n  grep -c ERROR $f >> counts.txt\ndone",
        "#!/bin/bash\nBACKUP=/mnt/backup/$(date +%F)\nmkdir $BACKUP\ncp -r ~/{n} $BACKUP",
    ],
    "rust": [
        "fn {f}(v: Vec<i32>) -> i32 {{\n    let mut m = v[0];\n    for x in v {{\n        if x > m {{ m = x; }}\n    }}\n    m\n}}",
    ],
    "c++": [
        "int* {f}(int n) {{\n    int arr[n];\n    for (int i = 0; i < n; i++) arr[i] = i * i;\n    return arr;\n}}",
    ],
    "php": [
        "<?php\n$id = $_GET['id'];\n$result = mysqli_query($conn, \"SELECT * FROM {n} WHERE id = $id\");\n?>",
    ],
}

_ERRORS = [
    "TypeError: unsupported operand type(s) for +: 'int' and 'str'",
    "KeyError: '{n}'",
    "IndexError: list index out of range",
    "ZeroDivisionError: division by zero",
    "AttributeError: 'NoneType' object has no attribute 'get'",
    "ModuleNotFoundError: No module named '{n}'",
    "Uncaught TypeError: Cannot read properties of undefined (reading 'map')",
    "java.lang.NullPointerException at com.app.{N}Service.{f}({N}Service.java:42)",
    "panic: runtime error: index out of range [3] with length 3",
    "ERROR 1054 (42S22): Unknown column '{n}' in 'field list'",
    "error[E0382]: borrow of moved value: `v`",
    "segmentation fault (core dumped)",
    "RecursionError: maximum recursion depth exceeded",
    "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xe9 in position 12",
]


def _ident(rng: random.Random) -> dict[str, str]:
    n = rng.choice(_NAMES)
    return {"n": n, "N": n.capitalize(), "f": rng.choice(_FUNCS)}


def code_language(rng: random.Random) -> str:
    return rng.choice(list(_CODE_TEMPLATES))


def code_snippet(rng: random.Random, language: str | None = None) -> str:
    """A short snippet (often with a bug), optionally fenced with its language tag."""
    language = language or code_language(rng)
    body = rng.choice(_CODE_TEMPLATES[language]).format(**_ident(rng))
    style = rng.random()
    if style < 0.45:
        return f"```{language if rng.random() < 0.7 else ''}\n{body}\n```"
    if style < 0.6:
        return f'"""\n{body}\n"""' if language == "python" else body
    return body


def error_message(rng: random.Random) -> str:
    return rng.choice(_ERRORS).format(**_ident(rng))


def code_with_error(rng: random.Random) -> str:
    snippet = code_snippet(rng)
    err = error_message(rng)
    lead = rng.choice(["I get this error:", "error:", "It fails with", "Traceback says", "getting"])
    return f"{snippet}\n\n{lead} {err}" if rng.random() < 0.5 else f"{lead} {err}\n\n{snippet}"


# ---------------------------------------------------------------- tables

_TABLE_SCHEMAS = [
    (
        "month",
        ["revenue", "orders", "returns"],
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    ),
    ("region", ["sales_k", "customers", "churn_pct"], ["North", "South", "East", "West", "Central"]),
    (
        "student",
        ["math", "reading", "science"],
        ["Ana", "Ben", "Chloe", "Dev", "Eli", "Fatima", "Gus", "Hana"],
    ),
    ("week", ["visits", "signups", "conversion_pct"], ["W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8"]),
    (
        "category",
        ["budget", "spent"],
        ["rent", "groceries", "transport", "dining out", "subscriptions", "utilities"],
    ),
    (
        "player",
        ["games", "points", "assists", "rebounds"],
        ["Smith", "Lopez", "Okafor", "Chen", "Novak", "Ivanova"],
    ),
    (
        "year",
        ["population", "median_income"],
        ["2016", "2017", "2018", "2019", "2020", "2021", "2022", "2023"],
    ),
    ("patient", ["age", "systolic_bp", "cholesterol"], ["P01", "P02", "P03", "P04", "P05", "P06", "P07"]),
    (
        "date",
        ["temp_c", "humidity", "rainfall_mm"],
        ["06-01", "06-02", "06-03", "06-04", "06-05", "06-06", "06-07"],
    ),
    ("variant", ["users", "conversions", "avg_order"], ["A", "B"]),
    ("product", ["units_sold", "price", "rating"], ["Widget", "Gadget", "Doohickey", "Sprocket", "Gizmo"]),
    ("server", ["cpu_pct", "mem_gb", "p95_latency_ms"], ["web-1", "web-2", "web-3", "db-1", "cache-1"]),
    ("quarter", ["revenue_m", "costs_m", "headcount"], ["Q1", "Q2", "Q3", "Q4"]),
    ("store", ["footfall", "avg_basket", "staff"], ["Downtown", "Mall", "Airport", "Suburb"]),
    ("day", ["steps", "sleep_hours", "resting_hr"], ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
    ("crop", ["yield_t_ha", "water_mm", "fertilizer_kg"], ["wheat", "corn", "barley", "soy", "rice"]),
]


def data_table(rng: random.Random) -> str:
    """A small CSV or markdown table with a trend, noise and sometimes an outlier."""
    key, cols, keys = rng.choice(_TABLE_SCHEMAS)
    nrows = rng.randint(min(3, len(keys)), len(keys))
    start = rng.randint(0, len(keys) - nrows)
    trend = rng.choice([-0.08, -0.03, 0.0, 0.04, 0.1])
    bases = [rng.choice([4, 12, 35, 80, 150, 420, 2500]) for _ in cols]
    rows = []
    outlier = rng.randrange(nrows) if rng.random() < 0.4 else -1
    for i in range(nrows):
        vals = []
        for base in bases:
            v = base * (1 + trend * i) * rng.uniform(0.85, 1.15)
            if i == outlier:
                v *= rng.choice([0.3, 2.8])
            vals.append(f"{v:.1f}" if base < 20 else str(int(v)))
        rows.append([keys[start + i], *vals])
    header = [key, *cols]
    if rng.random() < 0.55:
        sep = rng.choice([",", ",", "\t", ";"])
        return "\n".join(sep.join(r) for r in [header, *rows])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def number_list(rng: random.Random) -> str:
    n = rng.randint(5, 14)
    base = rng.choice([3, 20, 55, 100, 480, 1200])
    vals = [round(base * rng.uniform(0.7, 1.3), rng.choice([0, 0, 1])) for _ in range(n)]
    text = ", ".join(str(int(v)) if float(v).is_integer() else str(v) for v in vals)
    return text if rng.random() < 0.7 else text.replace(", ", " ")


_METRIC_SETS = [
    "accuracy {p1}, precision {p2}, recall {p3}, F1 {p4}",
    "control: {a} users, {c1} conversions; treatment: {b} users, {c2} conversions",
    "open rate {q1}%, click rate {q2}%, unsubscribe {q3}%",
    "MAU {a}, DAU {c1}, avg session {q1} min, churn {q2}%",
    "p-value = 0.0{d}, effect size d = 0.{d}{d2}, n = {a}",
    "R^2 = 0.{d}{d2}, slope = {q1}, intercept = {q2}",
    "NPS went from {q1} to {q2}; CSAT {q3}%",
    "latency p50 {c1} ms, p95 {c2} ms, p99 {a} ms, error rate 0.{d}%",
]


def metrics_line(rng: random.Random) -> str:
    return rng.choice(_METRIC_SETS).format(
        p1=f"0.{rng.randint(70, 98)}",
        p2=f"0.{rng.randint(60, 97)}",
        p3=f"0.{rng.randint(55, 96)}",
        p4=f"0.{rng.randint(60, 95)}",
        a=rng.randint(800, 20000),
        b=rng.randint(800, 20000),
        c1=rng.randint(30, 900),
        c2=rng.randint(30, 900),
        q1=rng.randint(2, 60),
        q2=rng.randint(2, 60),
        q3=rng.randint(1, 30),
        d=rng.randint(1, 9),
        d2=rng.randint(0, 9),
    )


# ---------------------------------------------------------------- prose

_ARTICLE_SENTENCES = {
    "city": [
        "The city council voted on Tuesday to expand the bike lane network by {n} kilometres over the next {y} years.",
        "Supporters argue the plan will cut traffic congestion and improve air quality in the downtown core.",
        "Local business owners raised concerns that removing parking spaces could hurt foot traffic.",
        "The project is expected to cost around {m} million dollars, funded partly by a state grant.",
        "A pilot on Elm Street last year saw cycling trips rise by {p} percent.",
        "Opponents plan to collect signatures to put the issue to a public vote in the autumn.",
        "The mayor said construction would be phased to limit disruption for residents.",
    ],
    "health": [
        "A new study of {n} adults found that people who walked at least {y} thousand steps a day had a lower risk of heart disease.",
        "Researchers followed participants for an average of {y} years.",
        "The effect held even after adjusting for diet, smoking and income.",
        "However, the authors caution that the study was observational and cannot prove cause and effect.",
        "Experts say that even short bursts of activity appear to be beneficial.",
        "The team now plans a randomised trial to test the findings.",
        "Participants who slept fewer than six hours saw a smaller benefit, about {p} percent.",
    ],
    "tech": [
        "The company announced its new laptop line on Monday, promising up to {n} hours of battery life.",
        "The devices use an in-house chip that the firm says is {p} percent faster than the previous generation.",
        "Analysts noted that the starting price of {m}99 dollars is higher than expected.",
        "Critics pointed out that the machines still lack user-replaceable storage.",
        "Pre-orders open next week, with shipping expected in {y} to {n} weeks.",
        "The launch comes as PC sales have fallen for several consecutive quarters.",
    ],
    "business": [
        "Quarterly revenue rose {p} percent year over year to {m} million dollars.",
        "Growth was driven mainly by the subscription segment, while hardware sales were flat.",
        "Operating costs increased because of higher shipping rates and new hires.",
        "The board approved a share buyback and kept its full-year guidance unchanged.",
        "Management warned that currency swings could weigh on results in the next quarter.",
        "The company also said it would close {y} underperforming stores.",
    ],
    "science": [
        "Astronomers have detected water vapour in the atmosphere of a planet about {n} light years away.",
        "The planet orbits within the habitable zone of a small red dwarf star.",
        "The observation was made by measuring starlight filtered through the planet's atmosphere.",
        "Scientists stress that the presence of water does not mean the planet hosts life.",
        "Further observations are planned with the next generation of space telescopes.",
        "The planet is roughly {y} times the mass of Earth.",
    ],
    "education": [
        "The school district will move to a four-day week starting next fall to save about {m} million dollars.",
        "Teachers' unions welcomed the change, saying it would help with recruitment.",
        "Some parents worry about childcare on the fifth day.",
        "The district plans to offer optional tutoring and sports on Fridays.",
        "Similar schemes in other states have shown mixed effects on test scores.",
        "A review of the programme is scheduled after {y} years.",
    ],
    "environment": [
        "Volunteers removed more than {n} kilograms of plastic from the river banks over the weekend.",
        "Most of the waste consisted of bottles, food packaging and fishing gear.",
        "The organisers said the amount had grown by {p} percent compared with last year.",
        "Local authorities promised to install more bins and fund regular clean-ups.",
        "Environmental groups called for a deposit return scheme for drinks containers.",
    ],
    "sports": [
        "The home team came back from two goals down to win {y}-{d} in the final minutes.",
        "Their captain scored twice after coming off the bench in the second half.",
        "The coach praised the squad's fitness but criticised a slow start.",
        "The result lifts the club to third place in the league with {n} games remaining.",
        "Injuries to two defenders remain a concern ahead of next week's derby.",
    ],
    "history": [
        "The Treaty of Westphalia in 1648 ended the Thirty Years' War in the Holy Roman Empire.",
        "It established the principle that rulers could determine the religion of their own states.",
        "Historians often describe it as the origin of the modern system of sovereign states.",
        "The negotiations took place over several years in two cities, Osnabrück and Münster.",
        "France and Sweden emerged from the settlement with significant territorial gains.",
    ],
    "product": [
        "Our new update brings offline mode, a redesigned dark theme and {p} percent faster sync.",
        "It also fixes the bug where notifications arrived twice on some Android phones.",
        "Update from the app store today; the web version follows next week.",
        "Existing subscribers get the premium features free for {y} months.",
        "We also removed the legacy export option, which fewer than {p} percent of users relied on.",
    ],
    "explainer": [
        "Passkeys are a replacement for passwords.", "Instead of typing a secret, your device creates a pair of cryptographic keys.",
        "The private key never leaves your phone or laptop, so there is nothing for a phishing site to steal.",
        "You unlock it with your fingerprint, face or device PIN.", "Most major websites and operating systems now support them.",
        "If you lose your device, a synced copy in your password manager lets you sign in again.",
    ],
    "ecology": [
        "Coral reefs have suffered several mass bleaching events since 1998, driven mainly by marine heatwaves.",
        "Bleaching happens when stressed corals expel the algae that give them colour and most of their food.",
        "Reefs can recover if temperatures return to normal, but recovery takes about a decade.",
        "Scientists warn that bleaching events are now happening every {y} years on average.",
        "Local measures such as reducing runoff help, but cannot offset global warming.",
    ],
    "research": [
        "We collected {y} years of soil moisture data from {n} vineyard plots.", "Plots were assigned to drip irrigation or deficit irrigation.",
        "Deficit irrigation reduced water use by {p} percent with no significant loss in yield.",
        "Grape sugar content was slightly higher under the deficit scheme.", "The effect was strongest in the driest year of the study.",
        "We discuss implications for water policy in semi-arid wine regions.",
    ],
    "policy": [
        "The government announced that the state pension age will rise to 68 by 20{d}5.",
        "Ministers say the change is needed because people are living longer.", "Unions criticised the plan as unfair to manual workers.",
        "The change will be phased in over {y} years, starting with people born after 1975.",
        "An independent review will report on the impact every five years.",
    ],
    "office": [
        "Just a reminder that the office will be closed Monday for the holiday.", "The quarterly review has moved from Tuesday to Thursday at 10.",
        "Please submit your expense reports by Friday; finance will not accept late ones this quarter.",
        "The new coffee machine on the third floor is finally working.", "IT will update all laptops overnight on Wednesday, so leave them plugged in.",
    ],
}

_PEOPLE = [
    "Sarah",
    "Tom",
    "Priya",
    "Marco",
    "Jen",
    "Ahmed",
    "Lucia",
    "Kenji",
    "Olga",
    "Sam",
    "Nadia",
    "Chris",
]

_EMAIL_BODIES = [
    "I wanted to follow up on the invoice from last month, which is still showing as unpaid on our side.",
    "We need to move the project review from Thursday to next Monday because two people are out.",
    "Thanks again for the demo yesterday; the team was impressed, but we have questions about pricing.",
    "Could you send the updated contract by Friday? Legal wants to review the liability clause.",
    "The shipment arrived damaged and three of the {n} units do not power on.",
    "As discussed, the budget for Q{d} has been reduced by {p} percent, so we must prioritise.",
    "I'm happy to confirm that your application has moved to the final interview stage.",
    "Please remember that the office will be closed on Friday for maintenance.",
    "We've noticed the staging server has been down since this morning; ops is looking into it.",
    "The client asked whether we can deliver the first milestone two weeks earlier.",
    "Our landlord says the rent will increase by {p} percent starting in {mo}.",
    "Attached are the minutes from the board meeting and the draft strategy deck.",
]

_NOTES = [
    "- Sprint velocity dropped to {n} points",
    "- Decided to delay launch to {mo}",
    "- {who} owns the pricing page",
    "- Budget approved for {d} new hires",
    "- Customer complaints up {p}% since the update",
    "- Need legal review before signing",
    "- Marketing wants a webinar in {mo}",
    "- Bug backlog at {n} tickets",
    "- {who} to send the vendor comparison by Friday",
    "- Retro: too many meetings, not enough focus time",
    "- Onboarding flow confusing for new users",
    "- Next review on the {d}th",
]

_MONTHS = ["January", "March", "April", "June", "September", "October", "November"]


def _fill_numbers(rng: random.Random, text: str) -> str:
    return text.format(
        n=rng.randint(3, 400),
        y=rng.randint(2, 9),
        m=rng.randint(2, 90),
        p=rng.randint(3, 60),
        d=rng.randint(1, 4),
        mo=rng.choice(_MONTHS),
        who=rng.choice(_PEOPLE),
    )


def article(rng: random.Random, min_sentences: int = 3, max_sentences: int = 7) -> str:
    topic = rng.choice(list(_ARTICLE_SENTENCES))
    sents = _ARTICLE_SENTENCES[topic]
    k = rng.randint(min(min_sentences, len(sents)), min(max_sentences, len(sents)))
    picked = sorted(rng.sample(range(len(sents)), k))
    return " ".join(_fill_numbers(rng, sents[i]) for i in picked)


def long_article(rng: random.Random) -> str:
    """Two or three paragraphs (~120-250 words): the long end of the length range."""
    paras = [article(rng, 4, 7) for _ in range(rng.randint(2, 3))]
    return "\n\n".join(paras)


def email(rng: random.Random) -> str:
    to, frm = rng.sample(_PEOPLE, 2)
    body = " ".join(_fill_numbers(rng, s) for s in rng.sample(_EMAIL_BODIES, rng.randint(2, 4)))
    greet = rng.choice(["Hi {to},", "Dear {to},", "Hello {to},", "{to} -", "Hey {to},"]).format(to=to)
    sign = rng.choice(["Best,", "Thanks,", "Regards,", "Cheers,", "Kind regards,"])
    return f"{greet}\n\n{body}\n\n{sign}\n{frm}"


def meeting_notes(rng: random.Random) -> str:
    lines = [_fill_numbers(rng, s) for s in rng.sample(_NOTES, rng.randint(3, 7))]
    head = rng.choice(["Meeting notes", "Standup", "Notes from today's sync", "Weekly ops meeting", ""])
    return "\n".join(([head] if head else []) + lines)


_CHAT_LINES = [
    "{a}: are we still on for the release tomorrow?",
    "{b}: not sure, QA found two blockers",
    "{a}: which ones?",
    "{b}: login timeout and the export crash",
    "{c}: I can take the export one",
    "{a}: ok let's decide at 10",
    "{b}: also the client wants a demo friday",
    "{c}: that's tight",
    "{a}: agreed, I'll tell them monday instead",
    "{c}: pushed a fix for the timeout, needs review",
]


def chat_log(rng: random.Random) -> str:
    a, b, c = rng.sample(_PEOPLE, 3)
    k = rng.randint(4, len(_CHAT_LINES))
    return "\n".join(line.format(a=a, b=b, c=c) for line in _CHAT_LINES[:k])


def review_batch(rng: random.Random) -> str:
    reviews = [
        "Great battery, terrible customer service.",
        "Arrived late but works fine.",
        "Broke after two weeks!!",
        "Exactly as described, would buy again.",
        "The app keeps crashing on my phone.",
        "Too expensive for what you get.",
        "Love the design, setup was confusing.",
        "5 stars, my kids love it",
        "Meh. It's okay.",
        "Refund took a month to arrive.",
    ]
    k = rng.randint(3, 7)
    return "\n".join(f"{i + 1}. {r}" for i, r in enumerate(rng.sample(reviews, k)))


# ---------------------------------------------------------------- text to translate

_FOREIGN = {
    "Spanish": [
        "¿Dónde está la estación de tren más cercana?",
        "Me gustaría reservar una mesa para dos personas esta noche.",
        "El informe debe entregarse antes del viernes.",
        "No entiendo por qué el sistema no funciona.",
        "Gracias por tu paciencia, te llamo mañana.",
        "La reunión se ha pospuesto hasta nuevo aviso.",
    ],
    "French": [
        "Je voudrais un café et un croissant, s'il vous plaît.",
        "Le projet sera terminé à la fin du mois.",
        "Pouvez-vous m'envoyer la facture par e-mail ?",
        "Il fait très beau aujourd'hui, allons au parc.",
        "Nous avons bien reçu votre candidature.",
        "Ce n'est pas ma faute si le train est en retard.",
    ],
    "German": [
        "Ich habe meinen Schlüssel im Büro vergessen.",
        "Die Lieferung kommt voraussichtlich am Montag.",
        "Können wir den Termin auf nächste Woche verschieben?",
        "Das Essen war ausgezeichnet, vielen Dank.",
        "Bitte füllen Sie das Formular vollständig aus.",
        "Wir suchen einen erfahrenen Entwickler.",
    ],
    "Italian": [
        "Vorrei prenotare una camera per tre notti.",
        "Il museo è chiuso il lunedì.",
        "Non vedo l'ora di rivederti.",
        "Quanto costa il biglietto per Roma?",
    ],
    "Portuguese": [
        "Obrigado pela ajuda de ontem.",
        "A reunião começa às nove horas.",
        "Você pode falar mais devagar, por favor?",
        "O pedido foi enviado ontem à tarde.",
    ],
    "Japanese": [
        "明日の会議は午後三時に始まります。",
        "この近くに駅はありますか？",
        "ご協力ありがとうございます。",
    ],
    "Chinese": ["我明天要去北京出差。", "这个价格太贵了。", "请问洗手间在哪里？"],
    "Russian": ["Я не понимаю, что ты имеешь в виду.", "Сколько стоит этот билет?", "Спасибо за помощь!"],
    "Dutch": ["Ik ben morgen de hele dag op kantoor.", "Kun je me helpen met deze vertaling?"],
    "Korean": ["오늘 날씨가 정말 좋네요.", "회의가 취소되었습니다."],
    "Arabic": ["شكرا جزيلا على مساعدتك.", "أين يقع الفندق؟"],
    "Turkish": ["Yarın sabah erken kalkmam gerekiyor.", "Bu kitabı çok beğendim."],
    "Polish": ["Dziękuję za szybką odpowiedź.", "Spotkanie jest przełożone na czwartek."],
}


def foreign_language(rng: random.Random) -> str:
    return rng.choice(list(_FOREIGN))


def foreign_text(rng: random.Random) -> str:
    """One to three sentences in one non-English language."""
    lang = foreign_language(rng)
    sents = _FOREIGN[lang]
    return " ".join(rng.sample(sents, rng.randint(1, min(3, len(sents)))))


_ENGLISH_SENTENCES = [
    "The meeting has been moved to Thursday at 3 pm.",
    "Please keep your receipt in case you need a refund.",
    "We are excited to welcome you to the team.",
    "Where can I buy a ticket for the night bus?",
    "My flight was cancelled and I need a hotel for tonight.",
    "This medicine should be taken twice a day with food.",
    "Thank you for your order; it will ship within two business days.",
    "I'm allergic to peanuts and shellfish.",
    "The wifi password is on the back of the router.",
    "Could you recommend a good restaurant nearby?",
    "Your appointment is confirmed for next Monday.",
    "Happy birthday! I hope all your wishes come true.",
    "The warranty does not cover accidental damage.",
    "Turn left at the second traffic light.",
    "I'll be working from home on Friday.",
    "Do not leave bags unattended.",
    "The water is not safe to drink.",
    "We look forward to working with you.",
    "How much does it cost to send this package to Canada?",
    "Sorry for the late reply, I was travelling.",
    "Press the red button to stop the machine.",
    "Our store opens at nine and closes at six.",
    "Congratulations on your graduation!",
]


def english_text(rng: random.Random) -> str:
    return " ".join(rng.sample(_ENGLISH_SENTENCES, rng.randint(1, 4)))


# ---------------------------------------------------------------- arguments (reasoning)

_ARGUMENTS = [
    "Everyone I know likes the new policy, so it must be popular nationwide.",
    "If we allow students to use calculators, next they'll want the computer to take the exam for them.",
    "My grandfather smoked every day and lived to 95, so smoking can't be that bad.",
    "Either you support this project or you don't care about the company.",
    "The study was funded by a soda company, so its conclusions about sugar are wrong.",
    "Since the new manager arrived, sales went up; therefore the manager caused the increase.",
    "All successful founders dropped out of college, so dropping out makes you successful.",
    "This supplement is natural, so it must be safe.",
    "Nobody has proven that ghosts don't exist, so they probably do.",
    "Crime went down after we installed cameras, so cameras prevent crime.",
]


def argument(rng: random.Random) -> str:
    return rng.choice(_ARGUMENTS)


# ---------------------------------------------------------------- personal stories, transcripts, legal/medical text

_STORY_OPENERS = [
    "So I ({age}{sex}) have been living with my roommate for {y} years and things were fine until recently.",
    "Long post, sorry. My {rel} and I have been together for {y} years.",
    "I started a new job {y} months ago and I thought it was going well.",
    "This happened at my cousin's wedding last weekend.",
    "Some background: I run a small {shop} with {y} employees.",
    "My neighbour and I have shared a driveway for {y} years without any problems.",
]
_STORY_MIDDLES = [
    "Then {who} started inviting people over every night without asking anyone.",
    "Last week I found out that {who} had been telling everyone I was the reason the project failed.",
    "Nobody pays their share of the bills on time and I end up covering it.",
    "When I brought it up, {who} said I was overreacting and walked out.",
    "We had agreed to split everything fifty-fifty, but that stopped after a few months.",
    "I tried leaving notes, then talking to them directly, and nothing changed.",
    "On top of that, my car broke down and I had to borrow money from my parents.",
    "Yesterday it escalated and there was a lot of shouting in front of the kids.",
    "My friends are split: half say I should let it go, half say I should move out.",
    "I haven't slept properly in a week and my work is starting to suffer.",
]
_STORY_ENDINGS = ["I don't know what to think anymore.", "Anyway, that's where things are now.",
                  "Part of me feels guilty about all of it.", "So yeah. That's the situation.", ""]


def personal_story(rng: random.Random) -> str:
    """A forum-style personal narrative (60-150 words): a summarization input and a distractor."""
    opener = rng.choice(_STORY_OPENERS).format(
        age=rng.randint(19, 58), sex=rng.choice(["F", "M"]), y=rng.randint(2, 9),
        rel=rng.choice(["husband", "wife", "boyfriend", "girlfriend", "partner"]),
        shop=rng.choice(["bakery", "bike shop", "cleaning company", "design studio", "café"]))
    middle = [s.format(who=rng.choice(_PEOPLE)) for s in rng.sample(_STORY_MIDDLES, rng.randint(3, 6))]
    return " ".join([opener, *middle, rng.choice(_STORY_ENDINGS)]).strip()


_TRANSCRIPT_LINES = [
    "Welcome back to the show. Today we're talking about {topic}.", "So where did the idea come from?",
    "Honestly it started as a side project, we never expected it to grow like this.",
    "What was the hardest part in the first year?", "Cash flow, without a doubt. We almost ran out of money twice.",
    "And how did you get through that?", "We cut everything non-essential and talked to our customers every week.",
    "A lot of listeners ask about work-life balance.", "I'm still figuring that out, to be fair.",
    "What advice would you give someone starting today?", "Start smaller than you think and ship something early.",
    "Okay, so last lecture we covered {topic}; today we'll look at the exceptions.",
    "The key point to remember for the exam is the difference between the two models.",
]
_TOPICS = ["remote work", "the housing market", "sleep science", "starting a food business", "electric cars",
           "the history of jazz", "personal finance", "climate adaptation", "learning languages as an adult"]


def transcript(rng: random.Random) -> str:
    a, b = rng.sample(_PEOPLE, 2)
    topic = rng.choice(_TOPICS)
    k = rng.randint(4, 9)
    start = rng.randint(0, len(_TRANSCRIPT_LINES) - k)
    lines = _TRANSCRIPT_LINES[start:start + k]
    return "\n".join(f"{a if i % 2 == 0 else b}: {line.format(topic=topic)}" for i, line in enumerate(lines))


_LEGAL = [
    "The Tenant shall not sublet the Premises or any part thereof without the prior written consent of the Landlord.",
    "Either party may terminate this Agreement upon thirty (30) days' written notice to the other party.",
    "The Contractor shall indemnify and hold harmless the Client against all claims arising from the Contractor's negligence.",
    "All intellectual property created in the course of the engagement shall vest in the Company.",
    "The Employee agrees not to solicit any clients of the Employer for a period of twelve (12) months after termination.",
    "Payment is due within fourteen (14) days of the invoice date; late payments accrue interest at 1.5% per month.",
    "This Agreement shall be governed by and construed in accordance with the laws of the State of New York.",
    "The security deposit shall be returned within thirty days of the end of the tenancy, less any lawful deductions.",
]
_MEDICAL = [
    "Patient is a {age}-year-old presenting with intermittent chest pain for three days.",
    "ECG showed normal sinus rhythm; troponin negative x2.", "History of hypertension, controlled on amlodipine 5 mg daily.",
    "Advised to reduce salt intake and follow up with GP in two weeks.", "Discharged in stable condition.",
    "MRI of the left knee shows a partial tear of the medial meniscus without ligament injury.",
    "Recommend physiotherapy twice weekly for six weeks before considering arthroscopy.",
    "Blood results: HbA1c 7.9%, LDL 3.8 mmol/L, eGFR 72.", "Start metformin 500 mg twice daily with meals.",
]


def legal_text(rng: random.Random) -> str:
    return " ".join(rng.sample(_LEGAL, rng.randint(2, 5)))


def medical_note(rng: random.Random) -> str:
    return " ".join(s.format(age=rng.randint(25, 85)) for s in rng.sample(_MEDICAL, rng.randint(3, 6)))


_SUBTITLE_LINES = ["Dude, you did not just say that.", "Whatever, I'm out.", "Wait, where are you going?",
                   "I told you this would happen!", "Can we talk about this later?", "No way. No way!",
                   "That's the worst idea I've ever heard.", "Fine. But you're paying.", "Shh, someone's coming.",
                   "I didn't sign up for this.", "Are you kidding me right now?", "Okay, okay, I'm sorry."]


def numbered_lines(rng: random.Random) -> str:
    lines = rng.sample(_SUBTITLE_LINES + _ENGLISH_SENTENCES, rng.randint(3, 7))
    return "\n".join(f"{i + 1}. {line}" for i, line in enumerate(lines))


# Public registry: slot name -> generator (used by pipeline.datagen.prompt_banks under ctx_* names).
CONTEXT_GENERATORS = {
    "ctx_code": code_snippet,
    "ctx_code_error": code_with_error,
    "ctx_error": error_message,
    "ctx_table": data_table,
    "ctx_numbers": number_list,
    "ctx_metrics": metrics_line,
    "ctx_article": article,
    "ctx_long_article": long_article,
    "ctx_email": email,
    "ctx_notes": meeting_notes,
    "ctx_chat": chat_log,
    "ctx_reviews": review_batch,
    "ctx_foreign": foreign_text,
    "ctx_english": english_text,
    "ctx_argument": argument,
    "ctx_story": personal_story,
    "ctx_transcript": transcript,
    "ctx_legal": legal_text,
    "ctx_medical": medical_note,
    "ctx_lines": numbered_lines,
}
