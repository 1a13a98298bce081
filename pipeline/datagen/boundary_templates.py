"""Templates on both sides of every boundary written down in params.yaml `intent_boundaries`.

Careful annotators split on these (pros and cons: question_answering or reasoning? "how can I
improve X": problem_solving or task_planning? ...). Each rule decides by the deliverable asked
back; these templates give the model rows on both sides with the same vocabulary, so only the
deliverable separates them. Merged into prompt_banks.TEMPLATES.
"""

from __future__ import annotations

BOUNDARY_SLOTS: dict[str, list[str]] = {
    "b_topic": ["nuclear power", "remote work", "electric cars", "homeschooling", "a four-day work week",
                "renting vs buying a home", "social media for teenagers", "microservices", "index funds",
                "learning two languages as a child", "standing desks", "self-driving cars", "open-plan offices"],
    "b_claim": ["we should ban cars from city centres because traffic killed someone last year",
                "video games cause violence since most shooters played them",
                "my diet works because I lost 3 kg in the first week",
                "remote workers are lazy because my one remote coworker misses deadlines",
                "the new policy failed since sales dropped the month after it started",
                "organic food is healthier because it costs more"],
    "b_improve": ["my sleep", "my team's code reviews", "our website's load time", "my running pace",
                  "my public speaking", "our customer response times", "my Spanish listening", "my credit score",
                  "the battery life of my phone", "our meeting culture"],
    "b_data_topic": ["unemployment figures", "inflation numbers", "election polls", "clinical trial results",
                     "housing prices", "GDP growth", "crime statistics", "app store ratings"],
    "b_feeling": ["I'm just so tired of everything at work lately", "my best friend moved away and it feels weird",
                  "I failed my driving test again today, ugh", "my dog is getting old and it makes me sad",
                  "finally finished my thesis!! feels unreal", "rough week, nothing went right"],
    "b_plain_text": ["{ctx_legal}", "{ctx_medical}", "{ctx_article}", "{ctx_email}"],
    "b_prose_logic": [
        "if the order total is over 100 dollars and the customer is a member, shipping is free, otherwise it costs 5",
        "every user has a name and an email, and can have many orders; each order has a date and a total",
        "take a list of temperatures, drop anything below zero, and give back the average",
        "when a file appears in the inbox folder, move it to archive and write its name to a log",
        "a student passes if they score at least 50 on the exam and attend 80 percent of classes"],
}

BOUNDARY_TEMPLATES: dict[str, list[str]] = {
    "question_answering": [
        "What are the pros and cons of {b_topic}?", "what factors matter most when deciding on {b_topic}",
        "What are the main trade-offs of {b_topic}?", "Why do people disagree about {b_topic}?",
        "How are {b_data_topic} usually collected?", "what do economists mean when they talk about {b_data_topic}",
        "Why are {b_data_topic} often revised later?",
    ],
    "reasoning": [
        "Someone told me {b_claim}. Is that argument valid?", "Is this reasoning sound? \"{b_claim}\"",
        "Evaluate this argument and tell me if the conclusion follows: {b_claim}",
        "My uncle says {b_claim}. What's wrong with that logic, if anything?",
    ],
    "problem_solving": [
        "How can I improve {b_improve}? It's been getting worse.", "how do i fix {b_improve}, nothing I try works",
        "{b_improve} is bad right now. What should I change first?",
        "Any advice? {b_feeling}, and I don't know what to do about it.",
        "{b_feeling}. How do I deal with this?",
    ],
    "task_planning": [
        "Make me a {period} plan to improve {b_improve}.", "give me a week by week schedule to work on {b_improve}",
        "Lay out the steps, in order, to improve {b_improve} by {date}.",
    ],
    "conversation": [
        "{b_feeling}", "{b_feeling}. just needed to tell someone", "not looking for advice, {b_feeling}",
    ],
    "data_analysis": [
        "Here are some {b_data_topic} I collected. What's the trend?\n{ctx_table}",
        "Which of these {b_data_topic} is an outlier? {ctx_numbers}",
        "I have {dataset_desc}. Which test or chart should I use to see {da_goal}?",
    ],
    "summarization": [
        "Rewrite this in plain English:\n{b_plain_text}", "can you put this into simpler words?\n\n{b_plain_text}",
        "Explain this to me like I'm 12, just the gist of it:\n{b_plain_text}",
        "Make this clearer and shorter without changing what it says:\n{b_plain_text}",
    ],
    "creative_writing": [
        "Rewrite this as a pirate would say it:\n{b_plain_text}", "Turn this into a limerick:\n{b_plain_text}",
        "Rewrite this as a dramatic movie trailer voice-over:\n{b_plain_text}",
    ],
    "code_generation": [
        "help!! my script keeps crashing with this: {ctx_error}", "I keep getting this error and I'm desperate: {ctx_code_error}",
        "why does this happen and how do I fix it?\n{ctx_code_error}",
        "Convert this into {plang}: {b_prose_logic}", "turn this description into a SQL schema: {b_prose_logic}",
        "Write this as {plang} code: {b_prose_logic}",
    ],
    "translation": [
        "Translate this into {tlang}: {b_prose_logic}", "how would you say this in {tlang}? {b_feeling}",
    ],
}
