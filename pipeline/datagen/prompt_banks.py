"""Template and slot banks for the prompt generator (pipeline.datagen.generate).

Template syntax: `{name}` is replaced by a random entry of SLOTS[name] (entries may contain
slots themselves); a name used twice in one prompt gets the same value. Names starting with
`ctx_` are pasted blocks (pipeline.datagen.prompt_context), `c_` are constraints and `{+}` marks an
extra sub-request: both count toward the complexity level (see pipeline.datagen.generate).

TEMPLATES[intent] are the main prompts; CROSS_TEMPLATES[intent] borrow another intent's
vocabulary while the deliverable (and so the label) stays that intent's. Banks are keyed by
intent name; pipeline.datagen.generate refuses an intent from params.yaml that has no bank here.
Prompts written entirely in another language are in pipeline.datagen.foreign_templates (their
slot banks are merged by all_slots()).
"""

from __future__ import annotations

from pipeline.datagen import reasoning_problems as rp
from pipeline.datagen.boundary_templates import BOUNDARY_SLOTS, BOUNDARY_TEMPLATES
from pipeline.datagen.foreign_templates import FOREIGN_SLOTS
from pipeline.datagen.prompt_context import CONTEXT_GENERATORS

# ====================================================================== shared slots
SHARED: dict[str, list[str]] = {
    "plang": ["Python", "JavaScript", "TypeScript", "Java", "C#", "Go", "Rust", "C++", "Ruby", "PHP", "Kotlin",
              "Swift", "python", "js", "Scala", "R", "Dart", "Elixir", "C"],
    "plang2": ["Python", "JavaScript", "TypeScript", "Go", "Rust", "Java", "C#", "Kotlin", "Ruby"],
    "tlang": ["Spanish", "French", "German", "Italian", "Portuguese", "Japanese", "Mandarin Chinese", "Korean",
              "Russian", "Arabic", "Hindi", "Dutch", "Swedish", "Polish", "Turkish", "Vietnamese", "Greek",
              "Brazilian Portuguese", "Mexican Spanish", "Hebrew", "Indonesian", "Thai", "Ukrainian", "spanish",
              "french", "german", "japanese", "Tagalog", "Swahili", "Czech", "Norwegian"],
    "role": ["teacher", "nurse", "software engineer", "small business owner", "college student", "project manager",
             "freelance designer", "high school student", "lawyer", "data scientist", "chef", "marketing manager",
             "retired engineer", "new parent", "accountant", "startup founder", "PhD student", "HR manager",
             "personal trainer", "real estate agent", "pharmacist", "journalist", "product manager", "farmer",
             "musician", "librarian", "sales rep", "non-native English speaker", "beginner", "grad student"],
    "project": ["a school project", "my startup's website", "a report for my boss", "my thesis", "a side project",
                "a presentation for tomorrow", "a client pitch", "my blog", "a hackathon", "our quarterly review",
                "a grant application", "my kid's homework", "a wedding", "a novel", "an online course", "a podcast"],
    "num": ["50", "100", "150", "200", "300", "80", "120", "250"],
    "money": ["$500", "$2,000", "$10k", "€1500", "£800", "$300", "$5,000", "$50,000", "€20k"],
    "period": ["2-week", "4-week", "6-week", "8-week", "3-month", "30-day", "12-week", "one-month", "90-day", "six month"],
    "days": ["2", "3", "4", "5", "7", "10", "three", "five"],
    "city": ["Rome", "Tokyo", "Lisbon", "New York", "Mexico City", "Istanbul", "Kyoto", "Barcelona", "Prague",
             "Bangkok", "Cape Town", "Vancouver", "Marrakech", "Reykjavik", "Seoul", "Buenos Aires", "Edinburgh",
             "Hanoi", "Vienna", "Chicago", "Sydney", "Amsterdam", "Nairobi", "Lima"],
    "date": ["March 1st", "the end of the month", "June", "Christmas", "next Friday", "the end of Q3",
             "September 15", "my birthday", "the summer", "the end of the year"],
    "relation": ["sister", "boss", "roommate", "mom", "dad", "partner", "best friend", "coworker", "neighbour",
                 "landlord", "teenage son", "daughter", "manager", "in-laws", "husband", "wife", "team lead"],
    "field": ["biology", "economics", "law", "medicine", "cooking", "finance", "chemistry", "music theory",
              "philosophy", "astronomy", "psychology", "gardening", "networking", "statistics", "history",
              "marketing", "nutrition", "physics", "accounting", "sports science", "linguistics", "architecture"],
}

# ====================================================================== question_answering
QA_SLOTS: dict[str, list[str]] = {
    "concept": [
        "compound interest", "a Roth IRA", "inflation", "the placebo effect", "a blockchain", "quantum entanglement",
        "the electoral college", "a statute of limitations", "habeas corpus", "the offside rule in soccer",
        "a closure in JavaScript", "big O notation", "a REST API", "recursion", "a p-value", "standard deviation",
        "Bayes' theorem", "opportunity cost", "the Krebs cycle", "natural selection", "cognitive dissonance",
        "a black hole", "dark matter", "an index fund", "a mortgage escrow account", "the GDPR", "fair use",
        "an LLC", "umami", "the Maillard reaction", "a sourdough starter", "photosynthesis", "plate tectonics",
        "the greenhouse effect", "herd immunity", "an autoimmune disease", "a VO2 max", "the time value of money",
        "supply and demand", "the Pythagorean theorem", "entropy", "a derivative in calculus", "a hedge fund",
        "the Renaissance", "stoicism", "utilitarianism", "impressionism", "a leitmotif", "iambic pentameter",
        "a sonnet's structure", "crop rotation", "companion planting", "a credit score", "a 401(k) match",
        "an API key", "machine learning", "a neural network", "overfitting", "a virtual machine", "Docker",
        "Kubernetes", "a VPN", "two-factor authentication", "the cloud", "a CPU cache", "RAID 5", "an SSD",
        "carbon credits", "the gig economy", "a franchise agreement", "gross margin", "EBITDA", "a balance sheet",
        "a sprint in agile", "the Socratic method", "the scientific method", "a null hypothesis", "a confidence interval",
        "the Doppler effect", "a solar eclipse", "circadian rhythm", "REM sleep", "gluten", "probiotics",
        "intermittent fasting", "a tax deduction", "capital gains tax", "a power of attorney", "a prenup",
        "the filibuster", "judicial review", "the separation of powers", "a zero-day exploit", "phishing",
    ],
    "mechanism": [
        "a heat pump", "GPS", "the immune system", "a mortgage", "a vaccine", "noise-cancelling headphones",
        "a bill becoming law in the US", "DNS", "a credit score", "compost", "an electric car battery",
        "the stock market", "a refrigerator", "wifi", "the human kidney", "garbage collection in Java", "HTTPS",
        "insulin", "a jury trial", "an automatic transmission", "a nuclear reactor", "a microwave oven",
        "the Fed setting interest rates", "a 3D printer", "public key encryption", "bitcoin mining", "a search engine",
        "an airplane wing", "a touchscreen", "the heart", "yeast in bread", "a hybrid car", "solar panels",
        "a pacemaker", "an MRI machine", "anesthesia", "a lottery", "an insurance deductible", "a stock split",
        "a fuel cell", "the water cycle", "a compass", "a camera lens", "bluetooth", "a quantum computer",
        "the Python GIL", "a hash table", "a database index", "TCP handshakes", "a load balancer", "a transformer model",
        "memory in the brain", "muscle growth", "caffeine", "an antibiotic", "a hurricane", "an earthquake",
        "a pension", "crowdfunding", "a patent", "the appeals process", "photosynthesis", "a dishwasher",
    ],
    "why_clause": [
        "the sky is blue", "bread goes stale", "we dream", "leaves change colour in autumn", "onions make you cry",
        "planes leave contrails", "the ocean is salty", "cats purr", "ice floats", "the Roman Empire fell",
        "interest rates affect house prices", "Python is slower than C", "my ears pop on planes", "we get goosebumps",
        "the moon has phases", "tomatoes are considered fruit", "some people are left-handed", "coffee makes me sleepy",
        "the Titanic sank", "we have leap years", "metal feels colder than wood", "soap kills germs",
        "the stock market crashed in 1929", "some languages have gendered nouns", "flamingos are pink",
        "hot water can freeze faster than cold", "yawning is contagious", "bananas are radioactive",
        "the US has an electoral college", "sourdough tastes sour", "plants need nitrogen", "the Dead Sea is so salty",
        "airlines overbook flights", "eggs go bad", "we can't tickle ourselves", "wet dogs smell",
        "vinyl records sound different", "rust forms on iron", "the Earth has seasons", "bees make honey",
    ],
    "pair": [
        "a virus and a bacterium", "TCP and UDP", "weather and climate", "a Roth and a traditional IRA",
        "baking soda and baking powder", "affect and effect", "a crocodile and an alligator", "stocks and bonds",
        "RAM and storage", "a psychologist and a psychiatrist", "civil and criminal law", "a latte and a cappuccino",
        "machine learning and deep learning", "an LLC and a sole proprietorship", "mitosis and meiosis",
        "a hurricane and a typhoon", "the House and the Senate", "a tort and a crime", "mean and median",
        "correlation and causation", "a list and a tuple in Python", "let and var in JavaScript", "SQL and NoSQL",
        "a process and a thread", "HTTP and HTTPS", "an ETF and a mutual fund", "a will and a trust",
        "a misdemeanor and a felony", "frosting and icing", "a violin and a viola", "Catholics and Protestants",
        "baroque and classical music", "a cold and the flu", "type 1 and type 2 diabetes", "cardio and strength training",
        "a debit and a credit card", "gross and net income", "a copyright and a trademark", "empathy and sympathy",
        "British and American English", "a comet and an asteroid", "a republic and a democracy", "Git and GitHub",
    ],
    "event": [
        "the French Revolution", "the fall of the Berlin Wall", "the Apollo 11 landing", "the 2008 financial crisis",
        "the invention of the printing press", "the Black Death", "the Meiji Restoration", "the Cuban missile crisis",
        "the Industrial Revolution", "the partition of India", "the Dust Bowl", "the Reformation",
        "World War I", "the Rwandan genocide", "the dot-com bubble", "the moon landing", "the Chernobyl disaster",
        "the signing of the Magna Carta", "the collapse of the Soviet Union", "the Spanish flu pandemic",
        "the American civil rights movement", "the Opium Wars", "the fall of Constantinople", "Brexit",
    ],
    "who_q": [
        "invented the telephone", "wrote One Hundred Years of Solitude", "was the first woman to win a Nobel Prize",
        "discovered penicillin", "painted the ceiling of the Sistine Chapel", "founded the Ottoman Empire",
        "came up with the theory of relativity", "was the first person to climb Everest", "invented the World Wide Web",
        "composed the Four Seasons", "designed the Eiffel Tower", "wrote the Federalist Papers",
        "was Cleopatra", "was Ada Lovelace", "was Genghis Khan", "created Linux", "discovered DNA's structure",
    ],
    "fact_q": [
        "How many bones are in the human body?", "What's the capital of Canada?", "How far is the moon from Earth?",
        "What is the boiling point of water at high altitude?", "How long does light from the sun take to reach us?",
        "What's the tallest mountain in Africa?", "How many players are on a rugby union team?",
        "What year did the Berlin Wall fall?", "What is the speed of sound?", "Which planet has the most moons?",
        "Which vitamin does your skin make from sunlight?", "What's the largest organ in the body?",
        "How many time zones does Russia have?", "What's the population of Brazil?", "How deep is the Mariana Trench?",
        "What language do they speak in Brazil?", "What's the smallest country in the world?",
        "How many calories are in a banana?", "How long is a marathon?", "What is the chemical formula of table salt?",
        "How much caffeine is in an espresso?", "What is the half-life of carbon-14?", "How old is the universe?",
        "Who won the 2018 World Cup?", "When was the first iPhone released?", "how many ounces in a cup",
        "whats the normal resting heart rate", "how many grams of protein in an egg", "how hot is the surface of the sun",
    ],
    "myth": [
        "we only use 10% of our brains", "lightning never strikes the same place twice", "goldfish have a 3-second memory",
        "cracking your knuckles causes arthritis", "sugar makes kids hyperactive", "the Great Wall is visible from space",
        "bulls hate the colour red", "you lose most of your body heat through your head", "bats are blind",
        "you should wait an hour after eating to swim", "shaving makes hair grow back thicker", "Napoleon was short",
        "carrots improve your eyesight", "you need 8 glasses of water a day", "MSG is bad for you",
    ],
    "made": ["cheese", "glass", "paper", "chocolate", "steel", "a vaccine", "a pencil", "plywood", "soy sauce",
             "decaf coffee", "a microchip", "tofu", "wine", "concrete", "denim", "maple syrup", "insulin"],
    "happens": [
        "you don't pay a parking ticket", "the Fed raises interest rates", "a star runs out of fuel",
        "you swallow gum", "a company goes bankrupt", "a bill is vetoed", "you die without a will",
        "the president is impeached", "a country defaults on its debt", "you mix bleach and ammonia",
        "you stop exercising for a month", "a stock gets delisted", "you go into a black hole",
    ],
    "condition": ["vitamin D deficiency", "Lyme disease", "burnout", "dehydration", "a concussion", "iron deficiency",
                  "type 2 diabetes", "strep throat", "sleep apnea", "celiac disease", "ADHD in adults", "shingles",
                  "carbon monoxide poisoning", "long covid", "a panic attack", "tennis elbow"],
    "game": ["cricket", "chess", "mahjong", "pickleball", "rugby", "poker", "the board game Go", "curling",
             "American football", "baseball", "bridge", "volleyball", "Formula 1 qualifying", "sumo"],
    "abbr": ["HTTP", "NATO", "GDP", "DNA", "ETF", "SaaS", "HIPAA", "OLED", "RSVP", "ROI", "CRISPR", "FAQ",
             "NASA", "API", "OPEC", "IPO", "GMO", "SPF", "ASAP", "USB", "ISBN", "LED", "HVAC"],
    "affect": ["sleep affect memory", "interest rates affect inflation", "altitude affect baking",
               "caffeine affect the heart", "the moon affect tides", "stress affect digestion",
               "exchange rates affect exports", "temperature affect battery life", "music affect productivity",
               "screen time affect kids' sleep", "minimum wage affect employment"],
    "history_thing": ["the fork", "coffee", "the internet", "jeans", "the Olympic Games", "pizza", "chess", "tea",
                      "the bicycle", "paper money", "the QWERTY keyboard", "the sandwich", "Halloween", "jazz"],
    "purpose": ["the appendix", "the filibuster", "a sinking fund", "a load balancer", "the Federal Reserve",
                "a roux in cooking", "tonsils", "the UN Security Council", "a cover letter", "a thesis statement",
                "the G20", "a sommelier", "an escrow account", "a circuit breaker", "the sabbath"],
    "know": ["the age of the universe", "the temperature of the sun's core", "what dinosaurs looked like",
             "the Earth's core is molten", "how old a fossil is", "the distance to other galaxies",
             "what the inside of a black hole is like", "which genes cause a disease"],
    "qa_opener": ["Quick question:", "I've always wondered:", "Random question but", "Curious:", "Serious question:",
                  "Something I never understood:", "My kid asked me this and I had no idea:", "Trivia time:", ""],
}

QA_TEMPLATES = [
    "What is {concept}?", "what's {concept}", "Explain {concept} in simple terms.", "Can you explain how {mechanism} works?",
    "How does {mechanism} work?", "how does {mechanism} actually work", "Why {why_clause}?", "why do people say {myth}",
    "What's the reason {why_clause}?", "I've always wondered why {why_clause}.", "Explain why {why_clause}.",
    "ELI5: why {why_clause}", "What's the difference between {pair}?", "difference between {pair}",
    "how are {pair} different", "Who {who_q}?", "{fact_q}", "{qa_opener} {fact_q}", "What caused {event}?",
    "What were the main consequences of {event}?", "Tell me about {event}.", "When did {event} happen and why?{+}",
    "Can you tell me what {concept} means?", "I keep hearing about {concept}. What is it exactly?",
    "In plain English, what is {concept}?", "Is it true that {myth}?", "is it a myth that {myth}",
    "How is {made} made?", "What happens if {happens}?", "what happens when {happens}",
    "What are the symptoms of {condition}?", "What are the rules of {game}?", "How do you score points in {game}?",
    "Explain {concept} like I'm five.", "eli5 {mechanism}", "quick q: what's {concept}", "{concept}?",
    "define {concept}", "What does {abbr} stand for?", "what does {abbr} mean", "How does {affect}?",
    "What's the history of {history_thing}?", "Where does {history_thing} come from?", "What is the purpose of {purpose}?",
    "How do scientists know {know}?", "{qa_opener} how does {mechanism} work?", "Can you explain {concept} and give an example?{+}",
    "What is {concept} and why does it matter?{+}", "{pair_same}", "{pair_diff}", "{pair_vs}?", "What are the pros and cons of {mechanism}?",
    "What does it mean when people talk about {concept}?", "Help me understand {concept}.",
    "I'm studying for an exam and don't get {concept}. Can you explain it?", "What's the science behind {why_clause2}?",
    "{ctx_code}\n\nWhat does this code do? I don't need changes, just an explanation.",
    "Explain what this {plang} snippet does line by line:\n{ctx_code}", "Can you walk me through how this works?\n\n{ctx_code}",
    "What's the main idea behind {concept}? Give me the intuition, not the formulas.",
    "who {who_q}", "tell me the history of {event} in a nutshell", "How big of a deal was {event}?",
    "Why was {event} important?", "Is {mechanism} safe?", "How accurate is {mechanism}?",
]
QA_SLOTS["why_clause2"] = QA_SLOTS["why_clause"]
_PAIR_SPLIT = [p.split(" and ", 1) for p in QA_SLOTS["pair"]]
QA_SLOTS["pair_same"] = [f"Is {a} basically the same as {b}?" for a, b in _PAIR_SPLIT]
QA_SLOTS["pair_diff"] = [f"How is {a} different from {b}?" for a, b in _PAIR_SPLIT]
QA_SLOTS["pair_vs"] = [f"{a} vs {b}" for a, b in _PAIR_SPLIT]

# ====================================================================== creative_writing
CW_SLOTS: dict[str, list[str]] = {
    "form": ["poem", "short story", "haiku", "limerick", "sonnet", "song", "rap verse", "bedtime story", "fable",
             "flash fiction piece", "free verse poem", "ballad", "fairy tale", "ghost story", "love poem",
             "short play", "children's story", "micro story", "ode", "spoken word piece", "acrostic poem"],
    "theme": [
        "autumn rain", "a lighthouse keeper who hates the sea", "first love", "losing a grandparent",
        "a robot learning to paint", "the last day of summer", "coffee", "Monday mornings", "a cat who thinks it's a dog",
        "climate change", "moving to a new city", "the ocean at night", "a haunted vending machine", "friendship",
        "a dragon afraid of heights", "space exploration", "growing old", "the smell of rain", "a detective in 1920s Chicago",
        "a kid's first day at school", "a time traveler stuck in 1850", "a bakery in Paris", "the moon", "my dog",
        "a broken phone", "social media addiction", "a farmer and a storm", "a city after everyone leaves", "sourdough",
        "the stock market", "a nurse on a night shift", "a chess grandmaster's last game", "a tiny house on a cliff",
        "a soccer team that never wins", "an AI that falls in love", "a grandmother's recipe book", "the first snow",
        "a lost sock's journey", "a lonely astronaut", "a mountain village", "a wizard who forgot his spells",
        "working from home", "a road trip with my dad", "a garden in spring", "the night shift at a hospital",
        "a thief with a conscience", "my hometown", "insomnia", "the sound of trains", "a retired superhero",
        "an octopus who escapes the aquarium", "a wedding that goes wrong", "hope", "a message in a bottle",
    ],
    "audience": ["for kids", "for my 5 year old", "for a wedding", "for a retirement party", "for teenagers",
                 "for my grandma", "for a classroom of 8-year-olds", "for my girlfriend", "for a book club", ""],
    "style": ["in the style of Edgar Allan Poe", "like Dr. Seuss", "as a pirate", "in Shakespearean English",
              "in noir style", "like a sports commentator", "in the voice of a grumpy cat", "like a fairy tale",
              "in the style of Hemingway", "as a haiku sequence", "like a nature documentary narrator",
              "in the style of a 1950s radio ad", "as if written by a medieval monk", "in Gen Z slang"],
    "occasion": ["my sister's wedding", "my dad's 60th birthday", "a coworker's retirement", "my best friend's graduation",
                 "our 10th anniversary", "a farewell party", "my grandma's 90th", "the company holiday party",
                 "a baby shower", "my brother's bachelor party", "a team launch celebration", "my mom's funeral"],
    "brand": ["a vegan bakery", "a dog-walking app", "an eco-friendly water bottle", "a cybersecurity startup",
              "a local gym", "a bookstore café", "a budgeting app", "a plant nursery", "a mobile car wash",
              "an online tutoring service", "a craft brewery", "a bike repair shop", "a meditation app",
              "a family dental clinic", "a food truck selling tacos", "a language school"],
    "character": ["a retired astronaut", "an elf blacksmith", "a villain who thinks he's the hero", "a teenage hacker",
                  "a ghost who is afraid of people", "a talking cat", "a medieval knight", "a burned-out surgeon",
                  "a grumpy old wizard", "a shy barista", "a time-traveling historian", "a robot butler",
                  "a pirate captain", "a small-town sheriff", "a runaway princess", "an alien tourist"],
    "setting": ["a floating city", "a desert planet", "a post-apocalyptic London", "a Victorian boarding school",
                "an underwater research station", "a generation ship", "a kingdom where music is illegal",
                "a small fishing village", "a cyberpunk Tokyo", "a haunted lighthouse", "an abandoned mall"],
    "scene": ["two strangers get stuck in an elevator", "a chef discovers her rival stole her recipe",
              "a kid finds a dragon egg in the backyard", "an old couple meets again after 50 years",
              "the power goes out during a job interview", "a detective realises she is the suspect",
              "a dog tries to explain the internet to a cat", "an astronaut hears knocking outside the station"],
    "joke_topic": ["programmers", "accountants", "cats", "dentists", "Mondays", "statistics", "cooking", "lawyers",
                   "coffee", "dads", "physics", "gym bros", "teachers", "my job", "pineapple pizza", "Excel"],
    "recipient": ["my mom", "a coworker who's leaving", "my best friend", "my grandpa", "my boss", "my wife",
                  "a client", "my teacher", "my nephew who's turning 10"],
    "caption": ["a beach sunset photo", "my new puppy", "our bakery's new croissant", "a hiking trip",
                "my graduation photo", "a rainy day in London", "our team offsite", "my first marathon"],
    "author": ["Shakespeare", "Jane Austen", "a hard-boiled detective novel", "a children's book", "Tolkien",
               "a pirate", "Ernest Hemingway", "a Gothic novel", "a rap battle", "the King James Bible"],
    "villain": ["wants to delete the internet", "runs a bakery", "is secretly lonely", "was once the hero",
                "controls the weather"],
    "story_start": ["The door had been locked for forty years, until this morning.",
                    "Nobody in the village remembered who built the clock tower.",
                    "My phone buzzed with a message from my own number.",
                    "The last train of the night stopped at a station that wasn't on the map.",
                    "Grandma always said never to open the blue box."],
    "c_creative": ["Make it rhyme.", "Keep it under {num} words.", "Give it a twist ending.", "Make it funny.",
                   "Make it sad but hopeful.", "Use the word 'lantern' somewhere.", "Write it in second person.",
                   "Aim it at teenagers.", "Include a talking animal.", "No more than three stanzas.",
                   "Keep it family friendly.", "end on a cliffhanger", "make it dark", "make it cheesy on purpose",
                   "Use lots of sensory detail.", "It should be about 5 lines.", "Use simple words for kids.",
                   "Set it in {city}.", "Give the main character a name starting with Z.", "Make it sound upbeat."],
}
CW_SLOTS["character2"] = CW_SLOTS["character"]

CW_TEMPLATES = [
    "Write a {form} about {theme}.", "write me a {form} about {theme}", "Can you write a {form} about {theme} {audience}?",
    "I need a {form} about {theme} {audience}", "{form} about {theme} pls", "Compose a {form} on {theme}.",
    "Write a funny poem about {theme}.", "Tell me a story about {theme}.", "Tell me a joke about {joke_topic}.",
    "tell me a joke", "got any good jokes about {joke_topic}?", "Write song lyrics about {theme} {style}.",
    "Write a toast for {occasion}.", "I have to give a speech at {occasion}. Write me something heartfelt and a little funny.{+}",
    "Come up with a slogan for {brand}.", "I need 5 catchy taglines for {brand}.",
    "Write a dialogue between {character} and {character2} about {theme}.",
    "Create a character: {character}. Give them a backstory, a secret, and a flaw.{+}{+}",
    "Help me build a fantasy world set in {setting}: politics, religion and a magic system.{+}{+}",
    "Rewrite this paragraph in the style of {author}:\n\n{ctx_article}", "Turn this email into a sonnet:\n{ctx_email}",
    "Write the opening paragraph of a novel about {theme}.", "Continue this story: {story_start}",
    "Write a bedtime story for my {kid_age}-year-old about {theme}.", "Write a haiku about {theme}.",
    "Can you write a limerick about {joke_topic}?", "Give me a short scary story set in {setting}.",
    "Write a rap verse about {theme}.", "Write a birthday card message for {recipient}.",
    "Write a love letter from {character} to {character2}.", "Write a scene where {scene}.",
    "I'm writing a novel set in {setting}. Can you draft a scene where {scene}?{+}",
    "Make up a myth that explains why {why_clause}.", "Write a monologue for a villain who {villain}.",
    "Write an Instagram caption for {caption}.", "Write a riddle whose answer is '{riddle_answer}'.",
    "Invent a new holiday and describe how people celebrate it.", "Write a poem for {recipient} for {occasion}.",
    "{theme}, {form}, go", "Write a {form} {style} about {theme}.", "Retell Little Red Riding Hood {style}.",
    "Write a six-word story about {theme}.", "Write the lyrics for a jingle for {brand}.",
    "Describe {setting} as the opening of a fantasy novel.", "Write a eulogy-style poem for {theme}.",
    "write a short horror story that takes place in {setting}", "Can you write a cute poem for {recipient}?",
    "Write a product description for {brand}'s new product that makes it sound magical.",
    "Write a diary entry from the point of view of {character}.", "Draft a comedy sketch about {joke_topic}.",
    "Give me a story prompt about {theme}, then write the first page.{+}", "Write a children's picture book text about {theme}.",
    "Write a letter from {character} to their younger self.", "Write fan fiction where {character} meets {character2}.",
]
CW_SLOTS["kid_age"] = ["3", "4", "5", "6", "7", "8"]
CW_SLOTS["riddle_answer"] = ["shadow", "time", "an echo", "a candle", "a map", "silence", "a secret", "a river"]
CW_SLOTS["why_clause"] = QA_SLOTS["why_clause"]

# ====================================================================== code_generation
CODE_SLOTS: dict[str, list[str]] = {
    "code_task": [
        "check if a string is a palindrome", "reverse a linked list", "merge two sorted lists",
        "validate an email address", "read a CSV file and print the average of a column", "calculate compound interest",
        "convert Celsius to Fahrenheit", "find duplicate files in a folder", "send an email with an attachment",
        "scrape headlines from a news site", "implement binary search", "count word frequencies in a text file",
        "generate a random password", "parse a JSON config file", "resize all images in a directory",
        "debounce a function", "implement an LRU cache", "compute Fibonacci numbers with memoization",
        "flatten a nested list", "check if a number is prime", "upload a file to S3",
        "retry an HTTP request with exponential backoff", "remove duplicates from an array while keeping order",
        "rotate a matrix 90 degrees", "detect a cycle in a graph", "parse dates in different formats",
        "download a file with a progress bar", "split a large file into chunks", "hash passwords with bcrypt",
        "convert a list of dicts to a CSV", "find the longest common prefix", "validate a sudoku board",
        "build a simple command-line todo app", "connect to a Postgres database and run a query",
        "watch a folder and log new files", "sort a dictionary by value", "paginate API results",
        "rate-limit calls to an API", "generate a QR code", "read environment variables with defaults",
        "merge overlapping intervals", "convert a Roman numeral to an integer", "count vowels in a string",
        "shuffle a deck of cards", "calculate the distance between two GPS coordinates", "deep copy an object",
    ],
    "sql_task": [
        "find the top 5 customers by total spend", "return duplicate emails in a users table", "count orders per month",
        "get employees who earn more than their manager", "delete rows older than 90 days",
        "show revenue per product category", "find users who never placed an order", "get the second highest salary",
        "calculate a running total of sales by day", "find products that were never sold",
        "list the most recent order for each customer", "pivot monthly sales into columns",
    ],
    "regex_task": ["email addresses", "US phone numbers", "dates in YYYY-MM-DD format", "URLs", "UK postcodes",
                   "hex colour codes", "passwords with at least one digit and one symbol", "IPv4 addresses",
                   "hashtags", "credit card numbers", "time in HH:MM format", "words that start with a capital letter"],
    "shell_task": ["find all files larger than 100MB", "rename all .jpeg files to .jpg", "kill the process on port 8080",
                   "count lines in all python files", "tar and gzip a folder without node_modules",
                   "show disk usage by folder", "replace a string in every file recursively",
                   "list the 10 most recently modified files", "delete all merged git branches",
                   "watch a log file for errors", "copy files over ssh", "undo my last git commit but keep the changes"],
    "config_task": ["a Dockerfile for a Flask app", "a GitHub Actions workflow that runs pytest",
                    "an nginx config for a reverse proxy", "a docker-compose file with postgres and redis",
                    "a Kubernetes deployment for a Node app", "a .gitignore for a Python project",
                    "a systemd service for my script", "a Makefile for a C project", "a Terraform file for an S3 bucket",
                    "a cron job that runs a backup every night", "an ESLint config for React", "a pre-commit config"],
    "framework": ["React", "Django", "Flask", "Express", "Spring Boot", "FastAPI", "Vue", "Rails", "Laravel",
                  "Angular", "Svelte", "Next.js", "SwiftUI", "Flutter", ".NET"],
    "component": ["a login form", "a todo list", "an endpoint that returns paginated users", "a dark mode toggle",
                  "a file upload handler", "a search bar with autocomplete", "a shopping cart",
                  "a modal dialog", "JWT authentication", "a contact form that sends an email", "an infinite scroll feed"],
    "algorithm": ["quicksort", "Dijkstra's algorithm", "a trie", "binary search tree insertion", "A* search",
                  "k-means clustering", "a token bucket rate limiter", "matrix multiplication", "merge sort",
                  "breadth-first search", "a min-heap", "topological sort", "the knapsack problem with DP"],
    "class_thing": ["a bank account", "a library book", "a parking lot", "a deck of cards", "an inventory item",
                    "a student with grades", "a to-do item", "a vending machine", "a chess board"],
    "pl_concept": ["a closure", "a decorator", "a generator", "async/await", "dependency injection",
                   "the observer pattern", "a context manager", "recursion", "inheritance", "a promise chain"],
    "c_code": ["Use type hints.", "No external libraries.", "Add comments.", "Handle edge cases like empty input.",
               "Include a few unit tests.", "Make it O(n).", "It has to run on Python 3.8.", "Keep it under 30 lines.",
               "Use async.", "Make it thread-safe.", "Follow PEP 8.", "Add error handling.", "use functional style",
               "don't use recursion", "log errors instead of crashing", "Write the tests first.",
               "It should read from stdin.", "Return the result as JSON."],
}

CODE_TEMPLATES = [
    "Write a {plang} function to {code_task}.", "write {plang} code to {code_task}", "{plang} script to {code_task}",
    "How do I {code_task} in {plang}?", "how to {code_task} in {plang}", "I need code that can {code_task}.",
    "Can you write a program to {code_task}?", "Implement a function to {code_task} in {plang}.",
    "{code_task} in {plang}", "{plang}: {code_task}", "SQL query to {sql_task}", "Write a SQL query to {sql_task}.",
    "I need a query that will {sql_task} in Postgres.", "regex for {regex_task}",
    "I need a regular expression that matches {regex_task}.", "bash command to {shell_task}",
    "What's the command to {shell_task} on Linux?", "one-liner to {shell_task}", "Write {config_task}.",
    "Create {config_task}.", "can you give me {config_task}", "Build {component} in {framework}.",
    "Write {component} using {framework} and TypeScript.", "Fix this code:\n{ctx_code}",
    "This doesn't work, can you fix it?\n\n{ctx_code_error}", "{ctx_code_error}\n\nhow do I fix this",
    "Why is this throwing an error and how do I fix it?\n{ctx_code_error}",
    "Refactor this to be more readable:\n{ctx_code}", "Convert this code to {plang2}:\n{ctx_code}",
    "Rewrite this in {plang2} please\n\n{ctx_code}", "Write unit tests for this function:\n{ctx_code}",
    "Add type hints and docstrings to this:\n{ctx_code}", "Make this faster:\n{ctx_code}",
    "Explain this code and then rewrite it in a cleaner way:{+}\n{ctx_code}", "Complete this function:\n{ctx_code}",
    "Write a class in {plang} representing {class_thing} with methods to add, remove and list items.{+}",
    "Write pandas code that groups this table by its first column and sums the rest:\n{ctx_table}",
    "Write Python code to plot this data as a bar chart:\n{ctx_table}",
    "Give me matplotlib code for a line chart of this:\n{ctx_table}",
    "Write an R script that runs a t-test on two groups of numbers.", "Give me a {plang} example of {pl_concept}.",
    "Implement {algorithm} in {plang}.", "{algorithm} in {plang} please", "Write a script that backs up my {folder} folder every night.",
    "Create a REST API in {framework} with CRUD endpoints for {resource}.{+}", "Write a {plang} one-liner to {code_task}.",
    "Can you show me code to {code_task}? Using {plang}.", "Add input validation to this endpoint:\n{ctx_code}",
    "My {framework} app needs {component}. Write it.", "Generate a SQL schema for {schema_app}.",
    "Write a migration that adds a created_at column to the {resource} table.", "Write a Python CLI with argparse that {cli_does}.",
    "Help me write a function that {code_task_3p}.", "code for {code_task}", "Translate this SQL into a Django ORM query:\n{ctx_code}",
    "Write a GitHub Actions workflow that builds and deploys my {framework} app.", "Write a Jest test for {component}.",
    "I'm learning {plang}. Write a small program that {code_task_3p} so I can study it.",
    "Write a Google Sheets formula that {sheet_task}.", "Excel formula to {sheet_formula_task}",
]
CODE_SLOTS["folder"] = ["Documents", "photos", "projects", "home", "/var/www", "notes"]
CODE_SLOTS["resource"] = ["users", "products", "orders", "books", "events", "tickets", "recipes", "invoices"]
CODE_SLOTS["schema_app"] = ["a library system", "a food delivery app", "a school timetable", "a small CRM",
                            "a blog with comments and tags", "a gym membership system", "a hotel booking site"]
CODE_SLOTS["cli_does"] = ["renames photos by date", "converts markdown to HTML", "checks broken links on a website",
                          "merges PDF files", "counts words in a file", "pings a list of servers"]
CODE_SLOTS["code_task_3p"] = ["checks if a word is a palindrome", "returns the nth prime", "removes stop words from text",
                              "converts timestamps to local time", "validates a credit card with Luhn",
                              "groups anagrams together", "reads a config file and prints it", "counts the vowels in a sentence"]
CODE_SLOTS["sheet_task"] = ["sums column B when column A says 'paid'", "looks up a price from another sheet",
                            "highlights duplicates", "counts unique names in column C"]
CODE_SLOTS["sheet_formula_task"] = ["split first and last names", "calculate age from a birth date",
                                    "find the last non-empty cell in a row", "average only the positive values"]

# ====================================================================== data_analysis
DA_SLOTS: dict[str, list[str]] = {
    "chart_goal": ["market share of 6 brands", "revenue over 5 years", "the relationship between ad spend and sales",
                   "the distribution of customer ages", "survey results on a 1-5 scale", "budget vs actual by department",
                   "how website traffic sources changed month by month", "a comparison of test scores between 3 schools",
                   "the correlation between sleep and productivity", "sales by region on a map"],
    "test_scenario": ["the average order value of two website designs", "blood pressure before and after a drug",
                      "exam scores of three teaching methods", "conversion rates of two email subject lines",
                      "whether gender and product preference are related", "customer satisfaction across 4 stores",
                      "reaction times of the same people with and without caffeine", "defect rates of two factories"],
    "dataset_desc": ["monthly sales for 12 stores over 3 years", "survey responses from 500 customers on a 1-5 scale",
                     "blood pressure readings for 40 patients before and after treatment", "website traffic by source",
                     "exam scores for two classes", "daily temperatures for a year", "employee salaries by department",
                     "app ratings by country", "support tickets with timestamps and categories",
                     "my household electricity usage per hour", "fitness tracker data for 6 months",
                     "churned vs retained customers with their usage stats", "house prices and square footage"],
    "da_goal": ["what drives churn", "seasonal patterns", "which stores underperform", "whether the change helped",
                "the biggest cost drivers", "unusual spikes", "which segment is most profitable", "any bias"],
    "personal_data": ["running times", "electricity bill", "sleep tracker data", "grades this semester",
                      "monthly spending", "weight log", "study hours", "screen time"],
    "c_data": ["Show the calculation.", "Put the results in a table.", "Mention any caveats about sample size.",
               "Suggest a chart to visualise it.", "Round to two decimals.", "Explain it to a non-technical manager.",
               "Flag anything unusual.", "Include percentages.", "Tell me how confident I should be.",
               "Keep it to the key numbers.", "compare it against last year if you can"],
}

DA_TEMPLATES = [
    "Here's our monthly data:\n{ctx_table}\nWhat trends do you see?", "{ctx_table}\n\nany outliers here?",
    "Analyze this data and tell me which row is performing worst:\n{ctx_table}",
    "What's the average and standard deviation of these numbers: {ctx_numbers}",
    "calculate the mean, median and mode of {ctx_numbers}", "Is there a correlation between the columns in this table?\n{ctx_table}",
    "Compare these results and tell me if the difference is significant: {ctx_metrics}", "Interpret these model metrics: {ctx_metrics}",
    "Our A/B test results: {ctx_metrics}. Which version won?", "Which chart type should I use to show {chart_goal}?",
    "What statistical test should I use to compare {test_scenario}?", "I have {dataset_desc}. How should I analyze it to find {da_goal}?",
    "Look at these numbers and tell me what stands out: {ctx_numbers}",
    "Break down this spending by category and tell me where I'm overspending:\n{ctx_table}",
    "What does this data tell us about growth?\n{ctx_table}", "Forecast the next value based on this:\n{ctx_table}",
    "Rank these by growth rate:\n{ctx_table}", "What percentage of the total does each row account for?\n{ctx_table}",
    "Can you do a quick analysis of my {personal_data}?\n{ctx_table}", "Run a quick regression on this and interpret the slope:\n{ctx_table}",
    "How do I interpret a p-value of 0.0{digit} in my experiment comparing {test_scenario}?",
    "Here are last week's numbers: {ctx_metrics}. Is this good or bad?", "Find the trend in this data:\n{ctx_table}",
    "what's the growth rate month over month here\n{ctx_table}", "Are any of these values anomalies? {ctx_numbers}",
    "Is the difference between these two groups meaningful? Group A: {ctx_numbers} Group B: {ctx_numbers2}",
    "Which of these {dataset_desc} metrics should I focus on to understand {da_goal}?",
    "Given these metrics, is the model overfitting? {ctx_metrics}", "Do a quick statistical summary of this column: {ctx_numbers}",
    "Spot the pattern in this table and explain what might cause it:\n{ctx_table}{+}",
    "How should I visualise {dataset_desc} to show {da_goal}?", "What's the median here and is the data skewed? {ctx_numbers}",
    "I'm looking at {dataset_desc}. What analysis would reveal {da_goal}?", "Compare the rows in this table and pick the best performer:\n{ctx_table}",
    "Identify the top and bottom performers and the overall trend:{+}\n{ctx_table}", "data: {ctx_numbers}\nvariance?",
    "Is this sample big enough to draw conclusions? {ctx_metrics}", "crunch these numbers for me: {ctx_numbers}",
    "What insights can you pull from this?\n\n{ctx_table}", "Calculate year-over-year change for each row:\n{ctx_table}",
    "How many of these reviews are positive vs negative, and what's the ratio?\n{ctx_reviews}",
    "My boss wants to know if {da_goal} shows up in {dataset_desc}. What should I look at first?",
    "Explain what these KPIs say about our business: {ctx_metrics}", "Which segment is growing fastest?\n{ctx_table}",
    "Is there seasonality in this?\n{ctx_table}", "Detect outliers using the IQR rule: {ctx_numbers}",
    "Are these numbers normally distributed? {ctx_numbers}", "What's the conversion rate for each variant and which is better? {ctx_metrics}",
]
DA_SLOTS["digit"] = [str(i) for i in range(1, 10)]

# ====================================================================== reasoning
RS_SLOTS = {
    "word_problem": [rp.word_problem],
    "riddle": [rp.riddle],
    "syllogism": [rp.syllogism],
    "proof": [rp.proof],
    "probability_q": [rp.probability],
    # answer-style words ("step by step", "explain your reasoning") are NOT here: they go to every
    # intent alike (pipeline.datagen.style_modifiers), or they would teach "step by step" = reasoning
    "c_reason": ["Don't just give me the answer.", "Check your answer at the end.", "Show your work please.",
                 "Explain why the obvious answer is wrong.", "Give a short proof.", "Also say how sure you are."],
}

RS_TEMPLATES = [
    "{word_problem}", "{word_problem} What's the answer?", "Solve this: {word_problem}",
    "Can you help me figure this out? {word_problem}", "riddle: {riddle}", "{riddle}",
    "Here's a riddle my kid asked me: {riddle} What's the answer?", "Is this argument valid? \"{ctx_argument}\"",
    "What's the logical flaw in this: {ctx_argument}", "Which fallacy is this? {ctx_argument}", "{proof}",
    "{syllogism}", "can u solve this: {word_problem}", "{probability_q}", "Logic question: {syllogism}",
    "My friend argued: \"{ctx_argument}\" Is that reasoning sound? Why or why not?",
    "Puzzle time! {word_problem}", "I'm stuck on this homework problem: {word_problem}",
    "Brain teaser: {riddle}", "{word_problem} I got a different answer than the book, can you check?",
    "Work out the answer logically: {word_problem}", "Math problem: {word_problem}",
    "Can you solve this? {word_problem}", "{word_problem} Explain like you're tutoring me.",
    "Help me reason through this: {syllogism}", "Deduce the answer: {word_problem}",
    "Is the conclusion justified? \"{ctx_argument}\"", "How would you prove this? {proof}",
    "lateral thinking puzzle: {riddle}", "{syllogism} Explain your reasoning.", "A logic puzzle for you: {word_problem}",
    "I think the answer is 42, am I right? {word_problem}", "Can you poke holes in this argument? {ctx_argument}",
    "Let's reason about probability: {probability_q}", "{probability_q} Please explain the logic, not just the number.",
    "Which conclusion follows: {syllogism}", "Quick puzzle: {word_problem}", "hmm {riddle}",
    "My teacher gave us this: {word_problem} How do I approach it?", "Use logic to solve: {word_problem}",
]

# ====================================================================== summarization
SM_SLOTS: dict[str, list[str]] = {
    "named_text": ["the book Sapiens", "Atomic Habits", "the movie Inception", "Moby Dick", "the GDPR",
                   "the First Amendment", "On the Origin of Species", "the Communist Manifesto", "the Agile Manifesto",
                   "the paper 'Attention Is All You Need'", "the Harry Potter series", "Pride and Prejudice", "Hamlet",
                   "The Great Gatsby", "the first season of Breaking Bad", "The Lord of the Rings", "Romeo and Juliet",
                   "Finding Nemo", "1984 by George Orwell", "the Declaration of Independence", "Thinking, Fast and Slow",
                   "The Art of War", "the Bhagavad Gita", "the last Apple keynote", "the Treaty of Versailles",
                   "Crime and Punishment", "The Lean Startup", "the Odyssey", "Frankenstein", "the Paris Agreement"],
    "c_summ": ["Keep it under {num} words.", "Use bullet points.", "Max three sentences.", "Focus on the decisions.",
               "Write it for a non-technical audience.", "Keep the numbers.", "One paragraph only.",
               "Start with the most important point.", "Include who is responsible for what.", "Make it skimmable.",
               "Keep the tone neutral.", "no more than 5 bullets", "in plain English"],
}

SM_TEMPLATES = [
    "Summarize this:\n\n{ctx_article}", "tl;dr\n{ctx_long_article}", "Can you give me the key points of this email?\n\n{ctx_email}",
    "Turn these meeting notes into a short summary for my boss:\n{ctx_notes}", "{ctx_article}\n\nsum this up in 2 sentences",
    "Summarize the following chat and list the decisions made:{+}\n{ctx_chat}", "Condense this into one paragraph:\n{ctx_long_article}",
    "What's the gist of this?\n{ctx_article}", "Give me a one-line summary of {named_text}.", "Summarize the main arguments of {named_text}.",
    "Write an abstract for this report:\n{ctx_long_article}", "Summarize this table in plain words:\n{ctx_table}",
    "Summarize these customer reviews:\n{ctx_reviews}", "Can you shorten this to under 50 words? {ctx_article}",
    "Give me the executive summary of:\n\n{ctx_long_article}", "I don't have time to read all of this. What are the main takeaways?\n\n{ctx_long_article}",
    "Recap this thread for someone who missed it:\n{ctx_chat}", "Bullet-point summary of this please:\n{ctx_email}",
    "Boil this down to three bullet points: {ctx_article}", "Summarize the plot of {named_text} in a few sentences.",
    "Summarize this paragraph for a 10-year-old: {ctx_article}", "tldr: {ctx_article}", "summarise pls\n\n{ctx_email}",
    "Give me a brief overview of this article:\n{ctx_long_article}", "What are the key points in this? {ctx_notes}",
    "Can you condense these notes into action items?\n{ctx_notes}", "Make a short summary of this email thread I can forward:\n{ctx_email}",
    "Summarize {named_text} chapter by chapter.{+}", "Sum up {named_text} for someone who's never read it.",
    "In a few sentences, what is this article saying?\n{ctx_article}", "Write a one-sentence headline-style summary of this: {ctx_article}",
    "Here's a long update from my team. Summarize it:\n{ctx_long_article}", "shorten this for a slack message: {ctx_email}",
    "Summarize this and pull out any deadlines:{+}\n{ctx_email}", "Give me the TL;DR of {named_text}.",
    "Summarize this text in {tlang}? No, in English is fine, just shorter:\n{ctx_article}", "key takeaways from {named_text}?",
    "Summarize the following lecture notes into a study sheet:\n{ctx_long_article}", "Condense this into a tweet:\n{ctx_article}",
    "Can you summarize what was discussed here?\n{ctx_chat}", "Please summarize:\n{ctx_long_article}",
    "What's this email actually asking me to do? Summarize it in one line.\n{ctx_email}",
    "Rewrite this as a short summary for the newsletter:\n{ctx_article}", "Give me a 3-bullet recap of these notes:\n{ctx_notes}",
]

# ====================================================================== translation
TR_SLOTS: dict[str, list[str]] = {
    "phrase": ["good morning, how are you?", "where is the bathroom?", "I love you", "thank you very much",
               "can I have the bill, please?", "nice to meet you", "I'm sorry for the delay", "happy birthday",
               "I don't understand", "how much does this cost?", "I'm vegetarian", "see you tomorrow",
               "the meeting is cancelled", "I need a doctor", "excuse me, is this seat taken?", "cheers!",
               "my name is Sam and I'm from Canada", "we're out of stock", "congratulations on the new job",
               "please call me back", "I'd like to return this", "keep the change", "what time is it?"],
    "foreign_phrase": ["carpe diem", "je ne sais quoi", "Schadenfreude", "hakuna matata", "c'est la vie", "ojalá",
                       "Fingerspitzengefühl", "wabi-sabi", "saudade", "hygge", "¿qué onda?", "ganbatte", "inshallah",
                       "dolce far niente", "mañana", "Gemütlichkeit", "déjà vu", "komorebi", "l'esprit de l'escalier",
                       "ya'aburnee", "nunchi", "pura vida", "lagom", "oy vey", "sobremesa"],
    "idiom": ["it's raining cats and dogs", "break a leg", "the ball is in your court", "spill the beans",
              "once in a blue moon", "bite the bullet", "it's not rocket science", "hit the sack",
              "a piece of cake", "cost an arm and a leg", "under the weather", "when pigs fly"],
    "word": ["butterfly", "sustainability", "spreadsheet", "grandmother", "mortgage", "hangover", "deadline",
             "toothbrush", "cozy", "awkward", "invoice", "stapler", "wifi password", "sunscreen"],
    "ui_strings": ['"Sign in", "Forgot password?", "Your cart is empty"', '"Save changes", "Cancel", "Are you sure?"',
                   '"Add to cart", "Out of stock", "Free shipping over $50"', '"Welcome back!", "Log out", "Settings"'],
    "menu": ["Grilled salmon with lemon butter, Mushroom risotto, Chocolate lava cake",
             "Chicken tikka masala, Garlic naan, Mango lassi", "Beef burger with fries, Caesar salad, Apple pie"],
    "country": ["Japan", "Brazil", "Germany", "Italy", "Mexico", "France", "Korea", "Turkey", "Vietnam", "Egypt"],
    "c_trans": ["Keep it formal.", "Use an informal tone.", "Keep the formatting.", "Make it sound natural, not word for word.",
                "Use the polite form.", "Give me the pronunciation too.", "Keep names untranslated.",
                "It's for a business email.", "Keep it short enough for a text message.", "Use British spelling.",
                "explain any tricky words", "it's going on a sign so keep it short"],
}

TR_TEMPLATES = [
    "Translate this into {tlang}: {ctx_english}", "How do you say '{phrase}' in {tlang}?", "What does '{ctx_foreign}' mean in English?",
    "translate: {ctx_foreign}", "{ctx_foreign}\n\nenglish please", "Can you translate the following email into {tlang}?\n\n{ctx_email}",
    "{tlang} translation of '{phrase}'", "How would a native {tlang} speaker say '{phrase}'?",
    "Translate this idiom into {tlang} with an equivalent expression: '{idiom}'", "What's the {tlang} word for {word}?",
    "Localize these app strings for the {country} market: {ui_strings}", "Translate my menu into {tlang}: {menu}",
    "I'm traveling to {country}. How do I say '{phrase}'?", "Translate to English:\n{ctx_foreign}",
    "Help me translate this for my {relation}, who only speaks {tlang}: {ctx_english}", "put this into {tlang}: {ctx_english}",
    "{ctx_english} -> {tlang}", "Please translate the text below into {tlang} and keep the tone casual.\n\n{ctx_email}",
    "Translate this paragraph into simple {tlang} for a learner:\n{ctx_article}", "What does '{foreign_phrase}' mean?",
    "what does {foreign_phrase} mean in english", "Can you translate '{phrase}' to {tlang}?", "'{phrase}' in {tlang}?",
    "I got this message and don't understand it: \"{ctx_foreign}\" What does it say?", "Translate into {tlang} and {tlang2}: {ctx_english}{+}",
    "english to {tlang}: {phrase}", "How do I say '{idiom}' in {tlang} so it makes sense?",
    "My {relation} texted me this: {ctx_foreign} translate?", "Translate this document into {tlang}:\n\n{ctx_long_article}",
    "Can you help me translate a birthday message into {tlang}? It says: \"{ctx_english}\"",
    "How do you write '{word}' in {tlang}?", "translate '{word}' to {tlang}", "What's the English for \"{ctx_foreign}\"?",
    "Translate this sign for me: {ctx_foreign}", "Render this in {tlang}, keeping the meaning rather than the exact words: {ctx_english}",
    "Could you translate this product description into {tlang} for our {country} store?\n{ctx_article}",
    "Is there a {tlang} equivalent of '{idiom}'?", "{ctx_foreign} <- what does this mean",
    "Translate the following into {tlang}, line by line:\n{ctx_english}", "in {tlang} how do you say {phrase}",
]
TR_SLOTS["tlang2"] = SHARED["tlang"]

# ====================================================================== conversation
CV_SLOTS: dict[str, list[str]] = {
    "greeting": ["hi", "hello", "hey", "hey there", "good morning", "good evening", "yo", "hiya", "hi again", "howdy",
                 "hello!", "Hi :)", "heyy", "morning!", "sup", "hola", "greetings", "hey buddy", "hi friend", "evening"],
    "smalltalk": ["how are you?", "how's it going?", "what's up?", "how's your day going?", "what have you been up to?",
                  "how are you doing today?", "you doing ok?", "how's everything?", "what's new with you?",
                  "how's life?", "hope you're having a good day", "long time no see!", "how was your weekend?",
                  "are you busy?", "nice to talk to you again", "how's your week been?"],
    "share": ["I finally finished my first marathon", "my cat just knocked my coffee off the table lol",
              "I got the job", "I just got back from {city} and it was amazing", "we adopted a puppy today",
              "I passed my driving test", "it's snowing here for the first time this year", "my sister had a baby",
              "I just moved into my new place", "I made pancakes from scratch this morning", "my team won the game last night",
              "I'm on vacation finally", "today is my birthday", "I started learning the guitar",
              "I binge-watched a whole series this weekend", "I beat my personal record at the gym"],
    "bad_day": ["my boss yelled at me in front of everyone", "I missed the bus and got soaked", "everything went wrong today",
                "I didn't get the promotion", "my flight got cancelled", "I've been stuck inside all week",
                "my best friend forgot my birthday", "I failed my exam", "work was exhausting", "I just feel off today",
                "I got into an argument with my {relation}", "I couldn't sleep at all last night"],
    "feeling": ["kind of lonely", "bored", "stressed", "really happy", "tired", "anxious", "excited", "a bit down",
                "nostalgic", "grateful", "restless", "homesick", "overwhelmed", "chill"],
    "fav": ["color", "movie", "book", "food", "song", "season", "animal", "holiday", "ice cream flavour", "band", "place"],
    "chat_topic": ["music", "movies", "cats", "rainy days", "pizza", "video games", "the beach", "traveling", "sci-fi",
                   "cooking", "football", "anime", "poetry", "hiking", "coffee", "jazz", "board games"],
    "thanks": ["thanks!", "thank you so much", "thanks, that was really helpful", "you're the best", "appreciate it",
               "ok cool thanks", "thanks a lot!", "ty", "thank you, seriously", "that helped a ton, thanks",
               "you saved my day", "cheers mate", "much appreciated"],
    "bye": ["good night!", "talk to you later", "bye for now", "gotta go", "see ya", "I'm off to bed", "catch you tomorrow",
            "ok that's all for today", "later!", "night night"],
    "meta": ["are you a real person?", "do you ever get tired of answering questions?", "do you have feelings?",
             "what do you think about me?", "I like talking to you", "you're pretty funny", "do you dream?",
             "do you remember what we talked about yesterday?", "what do you do for fun?", "are you happy?",
             "do you get lonely?", "what's it like being an AI?", "you're a good listener", "can we be friends?",
             "do you like your job?", "tell me about yourself", "what's your name?", "do you have a personality?"],
    "tail": ["", "", "", " :)", " lol", " haha", "!", " 😊", "...", " anyway", " 🙂", "!!"],
    "roleplay": ["a pirate", "my old college roommate", "a friendly barista", "a wise old owl", "a medieval innkeeper",
                 "my childhood best friend", "a cheerful robot", "a talk show host", "a fellow traveller on a train"],
}

CV_TEMPLATES = [
    "{greeting}{tail}", "{greeting}, {smalltalk}", "{greeting}! {smalltalk}{tail}", "{smalltalk}{tail}",
    "{greeting} {smalltalk} I'm feeling {feeling} today", "guess what, {share}!", "{greeting}! {share}{tail}",
    "{share} and I just wanted to tell someone{tail}", "ugh, today was the worst. {bad_day}.",
    "I just need to vent for a minute. {bad_day}.", "I'm feeling {feeling} tonight. can we just talk for a bit?",
    "I'm {feeling}, talk to me", "let's just chat for a bit{tail}", "can we talk about something fun?",
    "{thanks}{tail}", "{thanks}, {bye}", "{bye}{tail}", "{meta}", "{greeting}, {meta}", "{meta}{tail}",
    "do you like {chat_topic}?", "what's your favorite {fav}?", "what's your favourite {fav}? mine's changing all the time",
    "I love {chat_topic}. do you?", "let's pretend you're {roleplay} and we're just chatting. start!",
    "Can you be {roleplay} and chat with me for a bit?", "I don't need anything, just wanted to say {greeting2}",
    "{share}. {smalltalk}", "{bad_day}. anyway, {smalltalk}", "lol you're funny", "haha nice", "I'm back!", "missed me?",
    "so... what should we talk about?", "tell me something interesting about your day", "not much, just relaxing. you?",
    "just wanted to say {thanks} for earlier{tail}", "I'm bored out of my mind. entertain me{tail}",
    "{greeting}, it's me again. {share}", "nothing much, just {feeling}. what about you?", "{feeling} today tbh",
    "We talked yesterday about {chat_topic}, remember? I've been thinking about it{tail}",
    "Honestly {bad_day}, I don't want advice, I just want someone to listen.", "i just want to chat about {chat_topic}",
    "do you think {chat_topic} is overrated? just curious what you think{tail}", "good talk{tail}",
    "{greeting}. It's {weekday} and I'm {feeling}.",
    "so today {bad_day}, and then on top of that {bad_day2}. honestly I'm just {feeling}. not looking for advice, just needed to say it{+}",
    "{greeting}! {share}, and {share2}. what a week{tail} how's yours going?{+}",
    "I don't really have a question. {share}. I've been {feeling} all week and it's nice to have someone to talk to.{+}",
    "You know what, {meta2} I was thinking about that while {activity}. {smalltalk}{+}",
    "{thanks} for listening yesterday. {bad_day} but today is better. {smalltalk}{+}",
    "ok random but {meta} also {smalltalk}{+}", "happy {weekday}! {smalltalk}", "{thanks} I feel better now",
]
CV_SLOTS["greeting2"] = CV_SLOTS["greeting"]
CV_SLOTS["bad_day2"] = CV_SLOTS["bad_day"]
CV_SLOTS["share2"] = CV_SLOTS["share"]
CV_SLOTS["meta2"] = CV_SLOTS["meta"]
CV_SLOTS["activity"] = ["walking the dog", "doing the dishes", "on the train", "lying in bed", "making dinner", "at the gym"]
CV_SLOTS["weekday"] = ["Monday", "Friday", "Sunday", "Wednesday", "Saturday", "Tuesday"]

# ====================================================================== task_planning
TP_SLOTS: dict[str, list[str]] = {
    "exam": ["the GRE", "the AWS Solutions Architect exam", "my organic chemistry final", "the bar exam", "IELTS",
             "the CPA exam", "the JLPT N5", "the SAT", "my driving theory test", "the PMP certification", "the MCAT",
             "my calculus midterm", "the CompTIA Security+ exam", "the USMLE Step 1", "the LSAT"],
    "fitness_goal": ["run a 5k", "lose 5 kg", "do 10 pull-ups", "run a half marathon", "build muscle",
                     "improve my flexibility", "get back in shape after a baby", "train for a triathlon"],
    "goal": ["start a podcast", "launch an online store", "switch careers into data science", "buy my first house",
             "open a coffee shop", "write a novel in a year", "organise a charity run", "migrate our app to the cloud",
             "prepare for a new baby", "learn Spanish before my trip", "get my finances in order", "start a YouTube channel",
             "launch a mobile app", "become a freelance designer", "move abroad", "renovate a kitchen",
             "get promoted to senior engineer", "declutter my whole house", "apply to grad school", "start a vegetable garden",
             "set up a small nonprofit", "learn to play piano", "run for the school board", "launch a newsletter"],
    "skill": ["Python", "machine learning", "watercolor painting", "public speaking", "Japanese", "guitar",
              "web development", "photography", "UX design", "accounting basics", "chess", "baking bread", "SQL",
              "video editing", "sign language", "woodworking", "3D modeling", "investing"],
    "event_prep": ["moving to a new apartment", "a camping trip", "launch day", "hosting Thanksgiving",
                   "onboarding a new employee", "my first week at a new job", "a job interview", "a trip abroad",
                   "a product launch", "a conference talk", "closing the books at year end", "a home renovation",
                   "a baby's arrival", "selling my house", "a kid's birthday party", "a wedding day"],
    "plan_project": ["building a mobile app", "a website redesign", "our office move", "the annual report",
                "a data migration", "my master's thesis", "a community garden", "the product launch", "a podcast season",
                "a marketing campaign", "a kitchen renovation", "writing a cookbook", "a hackathon", "our CRM rollout"],
    "diet": ["a vegetarian", "someone with diabetes", "a family of four on a budget", "high protein", "low FODMAP",
             "a picky toddler", "keto", "someone training for a marathon"],
    "todo_list": ["laundry, call the bank, finish the report, gym, groceries, reply to emails",
                  "prepare slides, book flights, dentist at 2, pick up kids at 4, cook dinner",
                  "study for exam, clean room, part-time shift 12-5, call grandma",
                  "code review, 1:1 with my manager, write docs, fix the login bug, team lunch"],
    "commitments": ["I work 9-5, have yoga on Tuesdays, and need 10 hours for my online course",
                    "two kids' soccer practices, a part-time job, and I want to write every day",
                    "classes Monday to Thursday, a job on weekends, and a thesis due in 6 weeks"],
    "c_plan": ["I only have {hours} hours a week.", "My budget is {money}.", "Include rest days.", "Put it in a table by week.",
               "I'm a complete beginner.", "It has to be done by {date}.", "Include milestones.", "Break it into phases.",
               "I work full time.", "Make it realistic, I procrastinate a lot.", "Add deadlines for each step.",
               "There are 3 of us on the team.", "Give me a daily breakdown.", "include a buffer for delays"],
    "hours": ["5", "6", "10", "3", "8", "15"],
    "room": ["kitchen", "bathroom", "basement", "garden", "home office", "attic"],
    "content_brand": ["my bakery", "a fitness coach", "our SaaS startup", "a local bookstore", "my travel blog"],
    "month": ["January", "March", "May", "September", "October", "December", "next month", "Q2"],
}
TP_SLOTS["city"] = SHARED["city"]

TP_TEMPLATES = [
    "Make me a {period} study plan for {exam}.", "Plan a {days}-day trip to {city}.", "Create a workout plan to {fitness_goal}.",
    "What steps should I take to {goal}?", "Give me a roadmap to {goal}.", "roadmap for learning {skill}",
    "Break down {plan_project} into tasks with deadlines.", "Create a checklist for {event_prep}.", "Help me schedule my week: {commitments}.",
    "Build a timeline for {plan_project} that ends by {date}.", "I want to {goal} by {date}. What should my plan look like?",
    "Make a weekly meal plan for {diet}.", "Draft a 90-day onboarding plan for a new {role}.", "Organize my day: {todo_list}",
    "What's a good order to tackle these today? {todo_list}", "How should I structure the next {period} to prepare for {exam}?",
    "Plan my wedding: we have {months} months and a budget of {money}.", "Create a content calendar for {content_brand} for {month}.",
    "Lay out the phases of {plan_project} with milestones.", "I need a plan to pay off {money} of debt in {period} chunks.",
    "itinerary for {days} days in {city}", "Plan a birthday party for my {party_age}-year-old.",
    "Schedule for renovating my {room} over {weeks} weeks", "Give me a daily routine that helps me {habit_goal}.",
    "{period} plan to learn {skill} from scratch", "step by step plan to {goal}", "Can you plan out my {plan_day} for me? {todo_list}",
    "Help me plan {event_prep}.", "I'm starting {plan_project} next week. Can you draft a project plan with roles and milestones?{+}",
    "Map out a learning path for {skill}, from beginner to job-ready.", "What should my first {days} days look like as a new {role}?",
    "Plan a {days}-day road trip from {city} to {city2} with stops.", "Create a sprint plan for {plan_project}.",
    "Make a packing and prep checklist for {event_prep}.", "Plan a study schedule around my job: {commitments}.",
    "Give me a week-by-week plan to {fitness_goal} in {period} form.", "Put together an agenda for a half-day offsite on {offsite}.",
    "I want to {goal}. Where do I start and what comes after that?", "How do I plan {plan_project} so we launch on time? Give me the steps.",
    "Help me make a revision timetable for {exam}, it's in {weeks} weeks.", "Create a Gantt-style breakdown for {plan_project}.",
    "What's a realistic timeline to {goal}?", "Make me a morning routine for {habit_goal}.", "plan for {event_prep} please",
    "Set up a savings plan so I can {goal} in two years.", "to-do list for {event_prep}",
]
TP_SLOTS["months"] = ["6", "9", "12", "4", "18"]
TP_SLOTS["weeks"] = ["2", "3", "4", "6", "8", "10"]
TP_SLOTS["party_age"] = ["5", "6", "7", "8", "10", "12", "16"]
TP_SLOTS["plan_day"] = ["Monday", "Saturday", "tomorrow", "Friday", "Sunday"]
TP_SLOTS["city2"] = SHARED["city"]
TP_SLOTS["habit_goal"] = ["wake up earlier", "focus better at work", "read more", "sleep better", "stop procrastinating",
                          "be more productive working from home", "study every day", "drink less coffee"]
TP_SLOTS["offsite"] = ["team strategy", "our 2025 roadmap", "customer feedback", "reorganising the department"]

# ====================================================================== problem_solving
PS_SLOTS: dict[str, list[str]] = {
    "problem_stmt": [
        "My laptop won't turn on even when it's plugged in", "My wifi keeps dropping every evening",
        "The dishwasher leaves a white film on my glasses", "My car makes a squealing noise when I brake",
        "My phone battery drains in a few hours", "The printer says it's offline but it's connected",
        "My washing machine won't drain", "My sourdough doesn't rise anymore", "My tomato plants have yellow leaves",
        "The bathroom sink drains really slowly", "My bluetooth headphones won't pair with my laptop",
        "The fridge is making a loud buzzing sound", "My houseplants keep dying", "My monitor keeps flickering",
        "The smoke alarm keeps chirping even after I changed the battery", "My bike chain keeps slipping",
        "My cakes always sink in the middle", "Zoom keeps freezing on calls", "Outlook keeps asking for my password",
        "Our team keeps missing deadlines", "Customers abandon their carts at checkout",
        "My small bakery is losing money on weekdays", "New hires keep quitting within three months",
        "Our meetings always run over time", "Our inventory counts never match the system",
        "The basement smells musty after it rains", "My dog barks at every noise at night", "My toddler won't sleep through the night",
        "The heating in my apartment barely works", "My car won't start on cold mornings", "The garage door opens halfway and stops",
        "My TV has sound but no picture", "My water bill doubled this month", "My online shop gets lots of traffic but few sales",
        "Our restaurant gets bad reviews about slow service", "My computer gets really slow after an hour",
        "Mold keeps coming back in the shower", "My sleep has been terrible for weeks", "My lawn has brown patches",
        "The tap in the kitchen keeps dripping", "My credit card was charged twice", "My landlord won't return my deposit",
        "Our volunteers keep dropping out", "My espresso tastes bitter", "My AirPods only play in one ear",
        "The office printer jams every day", "Our delivery times keep slipping", "My chickens stopped laying eggs",
    ],
    "conflict_stmt": [
        "My roommate never cleans up after himself", "My coworker keeps taking credit for my work",
        "My teenage son won't talk to me anymore", "My neighbour's dog barks all night",
        "Two people on my team really don't get along", "A friend owes me money and avoids me",
        "My partner and I keep fighting about chores", "My boss keeps giving me tasks at 5pm on Fridays",
        "My in-laws drop by without warning", "A client refuses to pay the final invoice",
        "My sister and I argue every time we talk about our parents' care", "A group project member does nothing",
    ],
    "went_wrong": ["I locked myself out of my house", "I sent a confidential email to the wrong client",
                   "I missed my connecting flight", "I spilled coffee on my laptop", "I forgot my best friend's birthday",
                   "I paid a supplier twice", "My package says delivered but it isn't here", "I double-booked two meetings with clients",
                   "I lost my passport two days before my flight", "I accidentally deleted the shared photos folder",
                   "I bounced a rent check", "My car got towed", "I overslept and missed an exam"],
    "choice_pair": ["a job with higher pay and a job that's fully remote", "leasing and buying a car",
                    "repairing my 10-year-old car and buying a new one", "renting and buying in my city",
                    "two apartments, one cheaper and one closer to work", "an MBA and staying at my job",
                    "hiring a freelancer and hiring a full-time employee", "two daycare options for my son",
                    "a laptop with more RAM and one with a better screen", "moving closer to family and staying for my career",
                    "paying off debt and investing", "a gas and an electric stove"],
    "tried": ["restarting it", "unplugging it for a minute", "updating everything", "calling support", "resetting it",
              "talking to them directly", "checking the manual", "replacing the cable", "googling it for an hour"],
    "when": ["last week", "after the update", "when we moved", "a few days ago", "out of nowhere", "since the storm"],
    "c_ps": ["I can't spend more than {money}.", "I'd rather not call a professional.", "I need a solution by tomorrow.",
             "Give me the most likely cause first.", "I rent, so I can't make big changes.", "Keep it practical.",
             "list what to try in order", "explain what might be causing it too", "I'm not very handy.",
             "Be honest with me.", "What would you do first?"],
}

PS_TEMPLATES = [
    "{problem_stmt}. What should I do?", "{problem_stmt}, any ideas how to fix it?", "help! {problem_stmt}",
    "{device_problem}. I've already tried {tried}. What else can I try?", "I'm torn between {choice_pair}. Help me decide.",
    "{conflict_stmt}. How should I handle this?", "Troubleshoot this: {problem_stmt}.", "{problem_stmt} and I don't know why. It started {when}.",
    "{went_wrong}. What do I do now?", "Any advice? {conflict_stmt}.", "How do I fix this? {problem_stmt}.", "{problem_stmt}",
    "Should I choose between {choice_pair}? Which one makes more sense for me?", "We have a problem at work: {problem_stmt}. How would you approach it?",
    "{device_problem}. Is it worth fixing or should I replace it?", "What's the best way to deal with this? {conflict_stmt}.",
    "{went_wrong}, what are my options?", "Ugh, {problem_stmt}. How do I stop this from happening?",
    "I need to decide between {choice_pair}. Give me pros and cons and a recommendation.{+}",
    "As a {role}, I'm dealing with this: {problem_stmt}. What would you do?", "{conflict_stmt}. Should I confront them or let it go?",
    "{problem_stmt}. What could be causing it and how do I fix it?{+}", "quick help, {went_wrong}",
    "{device_problem}, tried {tried}, still broken", "How can we solve this: {problem_stmt}?",
    "What would you recommend? {problem_stmt} since {when}.", "{conflict_stmt}. I don't want to lose the friendship. What should I say?",
    "My {relation} says I should just ignore it, but {conflict_stmt}. What's the right move?", "Help me figure out why {problem_lc}.",
    "{went_wrong} and I'm panicking. What's the first thing I should do?", "Best way to handle: {conflict_stmt}?",
    "Is there a fix for this? {problem_stmt}.", "{device_problem}. The repair shop wants {money}. Is there anything I can try first?",
    "Can you help me troubleshoot? {problem_stmt}.", "Our process is broken: {problem_stmt}. Where do we start fixing it?",
    "{choice_pair}: which should I pick?", "What's the smartest move here? {went_wrong}.", "{problem_stmt}, what could it be?",
    "It's driving me crazy: {problem_stmt}.", "I manage a small team and {conflict_lc}. How do I resolve it fairly?",
]
PS_SLOTS["device_problem"] = [p for p in PS_SLOTS["problem_stmt"] if p.startswith(("My laptop", "My wifi", "The dishwasher",
    "My car", "My phone", "The printer", "My washing", "The bathroom", "My bluetooth", "The fridge", "My monitor", "The smoke",
    "My bike", "Zoom", "Outlook", "The heating", "The garage", "My TV", "My computer", "The tap", "My espresso", "My AirPods",
    "The office printer"))] + ["My {device_extra} stopped working after the last update"]
PS_SLOTS["device_extra"] = ["smart thermostat", "robot vacuum", "e-reader", "smartwatch", "router", "electric toothbrush", "car stereo"]
PS_SLOTS["problem_lc"] = [s[0].lower() + s[1:] for s in PS_SLOTS["problem_stmt"]]
PS_SLOTS["conflict_lc"] = [s[0].lower() + s[1:] for s in PS_SLOTS["conflict_stmt"]]


# ====================================================================== longer, personal and non-English prompts
# Real prompts often carry a paragraph of personal context, several questions at once, or are
# written in another language; the label still follows the deliverable (a German poem request
# is creative_writing, "hola, ¿qué tal?" is conversation, "traduce al inglés: ..." is translation).
QA_SLOTS.update({
    "qa_personal": ["My grandfather worked in {field} and I never really understood it.",
                    "I'm reading a book about {event} and I'm confused.", "My kid asked me this at dinner and I had no idea.",
                    "I'm a {role} and this keeps coming up at work.", "I got into an argument with my {relation} about this.",
                    "I watched a documentary last night and now I'm curious.", "I'm a junior dev, I get the gist but not the details.",
                    "I'm studying for an exam and my textbook is useless.", "Been wondering about this for ages.",
                    "Someone at work mentioned this and I nodded along but had no clue."],
    "qa_question": ["Why {why_clause}?", "How does {mechanism} work?", "What caused {event}?", "What actually is {concept}?",
                    "Who {who_q}?", "What happens if {happens}?", "How is {made} made?", "Why was {event} such a big deal?",
                    "What's the difference between {pair}?", "How does {affect}?"],
    "qa_followup": ["Also, why does it matter?", "And is it still relevant today?", "Also what's the history behind it?",
                    "And what do most people get wrong about it?", "Also, is there a simple way to remember it?",
                    "and how did people figure that out?", "Also what does {abbr} stand for while we're at it?"],
})
QA_SLOTS["qa_question2"] = QA_SLOTS["qa_question"]
QA_TEMPLATES += [
    "{qa_personal} {qa_question}", "{qa_personal} {qa_question} {qa_followup}{+}", "{qa_question} {qa_question2}{+}",
    "{qa_personal} {qa_question} {qa_question2} {qa_followup}{+}{+}", "Walk me through how {mechanism} works step by step.",
    "Explain how {mechanism} works step by step. I understand the basics but not the details.{+}",
    "I understand {concept} in theory but not why it matters in practice. Can you explain?",
    "no code please, just explain what {concept} is", "conceptually, what is {concept}? I don't need an implementation",
    "What does it mean when an API is idempotent?", "what is the difference between {pair}, in simple words",
    "how come {why_clause}", "is {concept} a good or a bad thing, and why?", "so what exactly is {concept}??",
]

CW_SLOTS.update({
    "cw_piece": ["best man speech", "toast", "poem", "short speech", "card message", "limerick", "maid of honour speech",
                 "retirement speech", "song", "rhyming invitation", "eulogy"],
    "cw_detail": ["We met playing {chat_topic_cw} at uni.", "She's terrified of geese.", "He once locked himself out of his own party.",
                  "They've been married for {num_small} years.", "Her favourite thing in the world is her garden.",
                  "He's a huge fan of {team}.", "We used to ride bikes to the lake every summer.", "She's moving to {city} next week.",
                  "He's retiring after {num_small} years as a {role}.", "Inside joke: the burnt lasagne.", "She hates being the centre of attention.",
                  "He proposed on a rainy ferry.", "They adopted three rescue dogs."],
    "rpg_thing": ["villain", "tavern keeper NPC", "cursed artifact", "rival adventuring party", "port city", "religion",
                  "magic system", "heist plot", "monster", "royal family", "secret society", "side quest"],
    "rpg_game": ["D&D campaign", "Pathfinder game", "tabletop one-shot", "fantasy novel", "video game", "homebrew RPG"],
    "rpg_detail": ["The party is level {num_small}.", "The setting is a coastal trading city.", "I want someone morally grey.",
                   "It should fit a dark, gritty tone.", "My players love puzzles.", "Keep it lighthearted.",
                   "It's set in a frozen northern kingdom.", "Give it a hook the players can't ignore."],
    "name_for": ["my bakery", "a fantasy kingdom", "my new puppy", "a podcast about history", "our pub quiz team",
                 "a sci-fi spaceship", "my Etsy shop", "a board game about trains", "my band"],
    "team": ["Liverpool", "the Yankees", "the All Blacks", "Real Madrid", "the Lakers", "his local darts team"],
    "chat_topic_cw": ["rugby", "chess", "in a band", "ultimate frisbee", "video games", "in the orchestra"],
    "num_small": ["2", "3", "5", "7", "10", "12", "25", "30"],
})
CW_SLOTS["cw_detail2"] = CW_SLOTS["cw_detail"]
CW_TEMPLATES += [
    "I need a {cw_piece} for {occasion}. {cw_detail} {cw_detail2}{+}", "{cw_piece} for {occasion}, {cw_detail} keep it funny but kind",
    "Help me write a {cw_piece} for {occasion}. Some stuff about them: {cw_detail} {cw_detail2} {c_creative}{+}",
    "Create a {rpg_thing} for my {rpg_game}. {rpg_detail}", "Design a {rpg_thing} for my {rpg_game}. {rpg_detail} {rpg_detail2}{+}",
    "Come up with {num_small} names for {name_for}.", "name ideas for {name_for}?", "Invent a {rpg_thing} and describe it.",
    "Write a poem for my friend who is moving away. {cw_detail} {cw_detail2}{+}",
    "my {relation} loves {chat_topic_cw2}, can you write a short funny poem about that for their birthday",
]
CW_SLOTS["rpg_detail2"] = CW_SLOTS["rpg_detail"]
CW_SLOTS["chat_topic_cw2"] = ["gardening", "cats", "fishing", "bad puns", "crosswords", "karaoke", "baking", "cycling"]

CODE_SLOTS["regex_sample"] = [r"^\d{3}-\d{4}$", r"[A-Z][a-z]+\s\d+", r"^[\w.]+@[\w]+\.com$", r"(\d{1,2})/(\d{1,2})/(\d{4})",
                              r"https?://\S+", r"^#[0-9a-fA-F]{6}$"]
CODE_TEMPLATES += [
    "Explain this regex and rewrite it so it also accepts uppercase: {regex_sample}{+}", "what's wrong with this query?\n{ctx_code}",
    "this works but it's slow, can you optimise it?\n{ctx_code}", "{ctx_code}\n\nconvert to {plang2}",
    "{ctx_code}\ncan you add error handling to this", "I'm a {role} with zero coding experience. I need a script that {code_task_3p}.",
    "Automate this for me with a {plang} script: every morning {automation}.", "write me a quick {plang} snippet to {code_task}, nothing fancy",
]
CODE_SLOTS["automation"] = ["download yesterday's sales report and email it to me", "rename the new photos in my Downloads folder",
                            "check if my website is up and text me if it isn't", "copy new invoices to a backup drive"]

DA_SLOTS.update({
    "tracker": ["daily steps", "weekly grocery spend", "sleep hours", "monthly electricity use in kWh", "running pace per km",
                "commute times in minutes", "monthly Etsy sales", "daily screen time", "blood sugar readings", "weekly study hours"],
    "unit": ["days", "weeks", "months"],
    "da_feel": ["i feel like my weekends are weird", "is something off?", "am I improving?", "it feels like it's getting worse",
                "is this normal?", "what stands out?", ""],
    "var_pair": ["hours studied and exam score", "ad spend and sales", "temperature and ice cream sales", "sleep and mood",
                 "price and rating", "age and income", "screen time and grades", "team size and delivery speed"],
    "sample": ["my class of {num_small}0", "{num_small}0 customers", "our {num_small} stores", "last year's data", "a small pilot"],
    "confound": ["the mix of products changed", "we changed how we count users in March", "there was a holiday in the middle",
                 "the sample got smaller", "prices went up at the same time"],
})
DA_TEMPLATES += [
    "my {tracker} for the last {num_small} {unit}: {ctx_numbers}. any pattern? {da_feel}",
    "r = 0.{digit}{digit2} between {var_pair} for {sample}, is that a meaningful correlation?",
    "my {tracker} went {ctx_numbers} over the last few {unit}, but {confound}. Is it actually changing or is it noise?{+}",
    "In my survey {digit}{digit2}% said yes out of {num_small}00 people. Is that different enough from last year's {digit2}{digit}%?",
    "group A mean {digit}{digit2}, group B mean {digit2}{digit}, sd about {digit}, n = {num_small}0 each. significant?",
    "Can you look at my {tracker} and tell me if there's a trend? {ctx_numbers}", "{tracker}: {ctx_numbers}\nwhat's the average and is it going up?",
    "{ctx_metrics}\n\nhow should I read these numbers?", "here's the data\n{ctx_table}\nwhich one is the outlier and why might that be?{+}",
]
DA_SLOTS["digit2"] = [str(i) for i in range(10)]

RS_SLOTS["argument_intro"] = ["my friend says", "my uncle keeps saying", "a guy on reddit claims", "my teacher argued",
                              "my coworker insists", "an ad says", "my dad always says"]
RS_TEMPLATES += [
    "{argument_intro} '{ctx_argument}' what fallacy is that and why is it wrong", "{argument_intro} \"{ctx_argument}\" is that actually logical?",
    "{word_problem} I keep getting confused, can you go through it slowly?", "homework: {word_problem}",
    "{word_problem} (no calculator)", "ok brain teaser for you. {riddle} dont just tell me the answer, give me a hint first",
]

SM_TEMPLATES += [
    "tl;dr pls\n\n{ctx_story}", "summarize this for me, it's my friend's really long message:\n{ctx_story}",
    "Summarize this podcast transcript:\n{ctx_transcript}", "What are the main points of this interview?\n{ctx_transcript}",
    "Summarize this contract clause in plain English:\n{ctx_legal}", "Summarize my dad's discharge notes so the family can read them:\n{ctx_medical}",
    "Give me the key points of this lecture transcript:\n{ctx_transcript}", "can you make this shorter, same meaning:\n{ctx_story}",
    "I have to brief my team. Summarize this into 3 bullets:\n{ctx_legal}", "{ctx_transcript}\n\nsummary?",
    "Summarize this thread and tell me what I need to do:{+}\n{ctx_chat}", "what's the short version of this:\n{ctx_story}",
]

TR_SLOTS["tr_purpose"] = ["subtitle lines", "these menu items", "these UI labels", "these product bullet points", "my slides",
                          "these survey questions", "these signs for our shop"]
TR_TEMPLATES += [
    "{tr_purpose} need to go into {tlang}, {c_trans}\n{ctx_lines}", "Translate the following dialogue into {tlang}:\n{ctx_lines}",
    "Translate this contract clause into {tlang}: {ctx_legal}", "Translate these discharge notes for my mother, who reads only {tlang}:\n{ctx_medical}",
    "Translate this message to my landlord into {tlang}: {ctx_english}", "How would I write this in {tlang}? {ctx_english}",
    "can you make this sound natural in {tlang}, not like google translate: {ctx_english}",
    "{ctx_foreign}\n\nwhat does this say", "Translate into English and keep the tone: {ctx_foreign}",
]

TP_SLOTS["tp_context"] = ["I just got accepted into a bootcamp starting in {month} and I work full time.",
                          "We're a team of {hours} launching a product in {weeks} weeks.", "I have {weeks} weeks until my exam and I'm way behind.",
                          "My parents are visiting for {days} days and I want to show them around {city}.",
                          "I'm moving to {city} in {month} for a new job.", "Our nonprofit has {money} and one volunteer coordinator.",
                          "I'm turning 40 and I want to finally get fit.", "I'm a {role} and I want to change careers within a year."]
TP_SLOTS["tp_ask"] = ["Can you make me a weekly schedule so I don't burn out?", "What should the plan look like, week by week?",
                      "Give me a day-by-day itinerary.", "Break it into milestones with dates.", "What are the steps, in order?",
                      "Can you draft a checklist for the whole thing?", "Help me lay out a realistic timeline."]
TP_TEMPLATES += [
    "{tp_context} {tp_ask}", "{tp_context} {tp_ask} {c_plan}{+}", "{tp_ask} {tp_context}",
    "so {tp_context_lc} {tp_ask}", "plan pls: {tp_context}",
]
TP_SLOTS["tp_context_lc"] = [s[0].lower() + s[1:] for s in TP_SLOTS["tp_context"]]

PS_SLOTS["ps_worry"] = ["my tire pressure light is on, can I still drive to work?", "the breaker trips every time I use the microwave, is that dangerous?",
                        "there's a faint gas smell near the stove, what should I do?", "my phone got wet and now the screen flickers, should I turn it off?",
                        "my dog ate a bit of chocolate, do I need to go to the vet?", "I found a crack in my windshield, do I need to replace it right away?",
                        "water is dripping from the ceiling under the bathroom, what do I do first?", "my laptop fan is super loud all the time, should I be worried?",
                        "my check engine light came on, is it ok to keep driving?", "the basement flooded a bit overnight, what now?",
                        "my boiler is making a banging noise, should I switch it off?", "the ATM kept my card, what do I do?"]
PS_TEMPLATES += [
    "{ps_worry}", "{problem_stmt}. Should I be worried?", "{problem_stmt}, is that normal or should I get it checked?",
    "{ps_worry} {c_ps}", "ok so {went_wrong_lc} and {ps_worry}{+}", "Long story: {problem_stmt}. {tried_story} What do I do?{+}",
]
PS_SLOTS["went_wrong_lc"] = [s[0].lower() + s[1:] for s in PS_SLOTS["went_wrong"]]
PS_SLOTS["tried_story"] = ["I tried turning it off and on and it worked for a day.", "The manual says nothing useful.",
                           "Customer support put me on hold for an hour.", "My friend looked at it and had no idea either."]

CV_SLOTS["cv_share_long"] = ["I finally told my family I'm changing careers and they took it way better than I expected",
                             "I spent the whole weekend in the garden and my hands hurt but I'm so happy",
                             "my daughter said her first word today and it was 'dog' not 'mama' lol",
                             "I've been learning to bake bread and today's loaf actually looked like bread"]
CV_TEMPLATES += [
    "{greeting}! {cv_share_long}{tail}", "{cv_share_long}. anyway how's your day going?{+}",
    "no real question, {cv_share_long}{tail}", "what do you think about {chat_topic}? I'm curious about your take",
]


PS_SLOTS.update({
    "offer_attr": ["fully remote", "hybrid 3 days a week", "big stable company with good training", "small startup with equity",
                   "40-minute commute", "4-day week", "better title but longer hours", "great team, boring product",
                   "close to my parents", "lots of travel"],
    "option_kind": [("job offers", "pays {money}"), ("apartments", "rent is {money}"), ("used cars", "costs {money}"),
                    ("laptops", "costs {money}"), ("daycares", "costs {money} a month"), ("vendors", "quotes {money}")],
    "me_context": ["I'm {age}, no kids, want to grow fast.", "We have a toddler and I hate commuting.",
                   "I'm trying to save for a house.", "My partner works from home.", "I care most about stability right now.",
                   "Money is tight this year.", ""],
    "age": ["24", "26", "31", "38", "45", "52"],
    "ps_ask": ["What should I do?", "How do I handle this?", "What would you do in my position?", "How do I fix this without making it worse?",
               "Any advice on what to do next?", "Should I say something or let it go?"],
})
PS_SLOTS["offer_attr2"] = PS_SLOTS["offer_attr"]
PS_SLOTS["money2"] = SHARED["money"]
PS_SLOTS["option_kind"] = [f"Two {kind}: A {price}, {{offer_attr}}. B {price.replace('{money}', '{money2}')}, {{offer_attr2}}."
                           for kind, price in PS_SLOTS["option_kind"]]
PS_TEMPLATES += [
    "{option_kind} {me_context} Which should I take?", "{option_kind} {me_context} Help me decide.{+}",
    "{ctx_story}\n\n{ps_ask}", "{ctx_story} {ps_ask}", "I manage a small team and {conflict_lc}. It's affecting everyone. {ps_ask}{+}",
    "{conflict_stmt}. I've tried {tried}. {ps_ask}",
]
TP_SLOTS["tp_items"] = ["booking venues", "sending invites", "arranging travel", "a budget", "catering", "a backup plan for rain",
                        "hiring", "testing", "marketing", "training staff", "paperwork", "packing", "a rehearsal"]
TP_SLOTS["tp_items2"] = TP_SLOTS["tp_items"]
TP_SLOTS["tp_items3"] = TP_SLOTS["tp_items"]
TP_TEMPLATES += [
    "organising {event_prep} for about {num_tp} people. need a planning timeline from now covering: {tp_items}, {tp_items2} and {tp_items3}{+}",
    "I need a timeline for {plan_project} covering {tp_items}, {tp_items2}, and {tp_items3}. We start in {month}.{+}",
    "Give me a step-by-step schedule for {event_prep}, including {tp_items} and {tp_items2}.",
]
TP_SLOTS["num_tp"] = ["20", "40", "60", "100", "150"]
RS_TEMPLATES += ["next number in the sequence: {sequence_q}", "{word_problem_lc}", "{probability_q} And why is the answer so unintuitive?{+}"]
RS_SLOTS["sequence_q"] = [lambda rng: rp.sequence(rng).replace("What comes next in the sequence ", "").rstrip("?")]
RS_SLOTS["word_problem_lc"] = [lambda rng: rp.word_problem(rng).lower().rstrip("?.")]


SM_SLOTS.update({
    "sm_format": ["a tweet", "two sentences", "one paragraph", "show notes with a 2-sentence summary and bullet topics",
                  "a 150-word abstract", "a slide of 4 bullets", "an elevator pitch", "a text message", "a newsletter blurb",
                  "a one-line status update", "a short paragraph for a non-expert"],
    "sm_reader": ["my grandma who isn't techy", "my boss who has 2 minutes", "a 12-year-old", "the rest of the team",
                  "a client", "my study group", "people who missed the meeting", "a busy executive"],
})
SM_TEMPLATES += [
    "condense into {sm_format}: {ctx_article}", "summarize this for {sm_reader}, short and simple:\n\"{ctx_article}\"",
    "abstract for my paper please, based on this: {ctx_long_article}", "{ctx_transcript}\n\nI need {sm_format} from this transcript.",
    "Turn this into {sm_format}:\n{ctx_long_article}", "Summarize this paragraph in {num_sm} sentences: {ctx_article}",
    "my notes from the talk, can you boil them down for {sm_reader}?\n{ctx_notes}", "Summarize this for {sm_reader}:\n{ctx_email}",
    "Here is a release note. Summarize it as {sm_format}: {ctx_article}", "Could you give {sm_reader} the short version of this? {ctx_long_article}",
]
SM_SLOTS["num_sm"] = ["2", "3", "two", "three", "4"]

CV_SLOTS.update({
    "vent_event": ["I broke up with my boyfriend of {num_small} years last week", "our dog died on Monday, he was {num_small} years old",
                   "I got laid off on Friday", "my best friend moved across the country", "my grandma passed away last month",
                   "I didn't get into the program I applied for", "my kid started school and the house feels empty",
                   "we lost the match in the final minute", "my startup shut down after two years"],
    "vent_detail": ["It was mostly mutual and I know it was the right call.", "He used to steal socks and howl at the mailman.",
                    "Everyone keeps telling me it'll be fine.", "I've got people around me, it's just weird.",
                    "Some days are okay, some aren't.", "I keep replaying it in my head.", "Honestly I'm more tired than sad."],
    "no_advice": ["I'm not asking what to do.", "I don't need advice, I just wanted to tell someone.", "No solutions please, I just want to talk.",
                  "I don't need grief tips, just wanted to share.", "not looking for a plan, just needed to get it out",
                  "you don't have to fix anything lol"],
})
CV_SLOTS["vent_detail2"] = CV_SLOTS["vent_detail"]
CV_TEMPLATES += [
    "{vent_event}. {vent_detail} {no_advice}{+}", "{vent_event}. {vent_detail} {vent_detail2} {no_advice} how's your day been?{+}{+}",
    "It's been a rough week. {vent_event}. {no_advice}", "{no_advice} {vent_event} and {feeling} about it.",
]

CW_TEMPLATES += [
    "need a tagline for my {biz_cw} '{biz_name}', {biz_vibe}. give me like {num_small} options",
    "Rewrite this product description as if {author} wrote it, but keep every fact:\n\n{ctx_article}",
    "Rewrite this email {style}:\n{ctx_email}", "Make this boring announcement into a fun rhyming poem: {ctx_article}",
    "Write a short story that starts with this line and ends with a twist: {story_start}{+}",
]
CW_SLOTS.update({
    "biz_cw": ["dog grooming business", "bakery", "bike repair shop", "yoga studio", "plant shop", "taco truck", "bookshop", "cleaning company"],
    "biz_name": ["Suds & Pups", "Rise Up", "Spoke Doctor", "Bend", "Leaf It", "Taco Bout It", "Page Turners", "Sparkle Squad"],
    "biz_vibe": ["small town, warm and a bit punny", "modern and minimal", "family friendly", "a little cheeky", "calm and premium"],
})

DA_TEMPLATES += [
    "regression output for my {model_da}: {ctx_metrics}. what does this actually tell me?",
    "what statistical test to compare {test_scenario}", "which test do I use for {test_scenario}? and which chart?{+}",
    "{ctx_metrics} is the model useless with that R²? what does it actually tell me", "Do these results look significant to you? {ctx_metrics}",
]
DA_SLOTS["model_da"] = ["demand model", "house price model", "churn model", "sales forecast", "salary analysis"]

PS_SLOTS["biz_problem"] = ["Our supplier just shipped the wrong material and we have {num_tp} pending orders",
                           "A customer left a one-star review claiming we never delivered, but tracking says we did",
                           "Our payment provider froze our account two days before a big sale",
                           "Half my staff called in sick on our busiest day", "The venue cancelled our event with three weeks' notice",
                           "A batch of our product was mislabelled and already shipped", "Our website went down during a promo"]
PS_SLOTS["num_tp"] = ["20", "40", "60", "100", "150"]
PS_TEMPLATES += [
    "I run a small {biz_cw}. {biz_problem}. {ps_ask}", "{biz_problem}. What are my options and what would you do first?{+}",
    "{biz_problem}, how do we handle this with customers?",
]
PS_SLOTS["biz_cw"] = CW_SLOTS["biz_cw"]

TP_TEMPLATES += [
    "{tp_event} in {months} months and we have booked literally nothing. what should happen when? timeline please",
    "{tp_event} is in {weeks} weeks. what needs to happen each week?", "planning {tp_event}, can you give me a month-by-month plan?",
]
TP_SLOTS["tp_event"] = ["wedding", "our conference", "my sister's 40th", "the school fair", "our product launch", "the family reunion",
                        "a charity gala", "my PhD defense"]

CODE_TEMPLATES += [
    "we're removing {old_lib} from the whole codebase, convert this to {new_lib}. {c_code}\n{ctx_code}",
    "port this to {plang2}, we're dropping {old_lib}:\n{ctx_code}", "rewrite this without {old_lib}:\n{ctx_code}",
]
CODE_SLOTS["old_lib"] = ["jquery", "lodash", "moment.js", "Python 2", "class components", "callbacks", "the old ORM"]
CODE_SLOTS["new_lib"] = ["vanilla js", "native array methods", "date-fns", "Python 3", "React hooks", "async/await", "SQLAlchemy 2"]


CODE_SLOTS["config_terse"] = ["nginx config that redirects http to https and proxies /api to a local port",
                              "docker compose for postgres + redis + my api", "k8s deployment yaml with 3 replicas and a readiness probe",
                              "github action that lints on every PR", "crontab line to run backup.sh at 2am on weekdays",
                              "Caddyfile for two subdomains", "apache rewrite rule to drop .php from urls", "tsconfig for a node 20 project"]
CODE_TEMPLATES += [
    "{config_terse}", "need a {config_terse}", "Getting this in my {framework} app, been stuck {hours_code} hours:\n\n{ctx_code_error}",
    "{ctx_code_error}\n\nany idea? deadline is tomorrow", "been stuck on this for ages\n{ctx_code_error}",
]
CODE_SLOTS["hours_code"] = ["2", "3", "two", "a few", "5"]
PS_SLOTS["conflict_stmt"] += ["My dad is in his 80s and still driving even after two small accidents this year",
                              "My mom refuses to see a doctor about her memory problems",
                              "My teenager is failing two classes and won't let me help",
                              "My brother keeps borrowing money and never pays it back"]
PS_SLOTS["conflict_lc"] = [s[0].lower() + s[1:] for s in PS_SLOTS["conflict_stmt"]]

# ====================================================================== cross-intent prompts
# Rule: the other intent's word names the SUBJECT or the INPUT; the verb and the thing asked back
# name the deliverable, and the label follows the deliverable.
CROSS_TEMPLATES = {
    "question_answering": [
        "How does machine translation like Google Translate actually work?", "What is the difference between a summary and an abstract?",
        "Why do poems rhyme? Where did that tradition come from?", "What is a sonnet?", "How do compilers translate code into machine code?",
        "What does a data analyst actually do all day?", "What's the history of the haiku?", "What exactly is a project roadmap?",
        "Why are riddles and logic puzzles supposedly good for your brain?", "How do chatbots decide what to say in a conversation?",
        "What does TL;DR stand for and where does it come from?", "How do professional translators handle jokes and puns?",
        "What is the difference between a plan and a strategy?", "How does a spell checker know a word is wrong?",
        "What makes a story a short story instead of a novella?", "How do statisticians decide what counts as an outlier?",
        "Why is Python so popular for data analysis?", "What's the origin of the phrase 'break a leg'?",
        "Who translated the Bible into English first?", "How does the Google Translate camera feature work?",
    ],
    "creative_writing": [
        "Write a poem that summarizes {event}.", "Write a short story about a translator who mistranslates a peace treaty.",
        "Write a funny song about debugging {plang} code.", "Write a limerick about a data scientist who hates Excel.",
        "Write a story where a detective solves a logic puzzle to escape a locked room.", "Write a haiku about a failed SQL query.",
        "Write a bedtime story that teaches a kid how to plan their day.", "Compose a rap that explains {concept}.",
        "Write a dialogue between two friends planning a road trip to {city}.", "Write a poem in {tlang} about the sea.",
        "Turn these meeting notes into a dramatic monologue:\n{ctx_notes}", "Write a love poem from a spreadsheet to a pie chart.",
        "Write a short story about a chatbot that wants to have a real conversation.", "Write a fable about two farmers solving a water shortage.",
        "Write a sonnet about compound interest.", "Write a children's story that explains how {mechanism} works.",
    ],
    "code_generation": [
        "Write a Python function that translates English words into Pig Latin.", "Write a script that summarizes a CSV by computing each column's mean.",
        "Translate this code into {plang2}:\n{ctx_code}", "Write a function that solves the Tower of Hanoi puzzle.",
        "Create a simple chatbot in {plang} that replies to greetings.", "Write code that generates random haikus from a word list.",
        "Write a SQL query that shows which region had the highest sales growth.", "Write a regex to pull the dates out of these meeting notes:\n{ctx_notes}",
        "Build a to-do planner app in {framework} with due dates.", "Write a program that sends each line of a file to a translation API.",
        "Write pandas code to find outliers in this data:\n{ctx_table}", "Write a function that checks whether a logic puzzle solution is valid.",
        "Write a Python script that summarizes long text using word frequency.", "Write a script that creates a weekly study schedule as a calendar file.",
    ],
    "data_analysis": [
        "Here are the response times of our translation team in hours: {ctx_numbers}. What's the trend?",
        "Our chatbot conversation logs show {ctx_metrics}. What does that say about engagement?",
        "Here's how long each code review took, in minutes: {ctx_numbers}. Any outliers?",
        "These are word counts of our summaries vs the originals:\n{ctx_table}\nWhat's the average compression ratio?",
        "Ratings for the poems in our contest: {ctx_numbers}. Is the distribution skewed?",
        "Compare how many tasks each project plan completed on time:\n{ctx_table}", "Which day of the week do our support conversations peak?\n{ctx_table}",
        "Here's our bug count per sprint: {ctx_numbers}. Is the code quality improving?",
        "Our app's users by language: {ctx_table}\nWhich markets are growing fastest?",
        "What trend does this data show?\n{ctx_table}", "Is there a pattern in when our problem tickets come in?\n{ctx_table}",
    ],
    "reasoning": [
        "A translator can translate {n1} pages an hour and her colleague {n2}. Working together, how long for a {n3}-page book?",
        "Every poem in an anthology has 14 lines, and there are {n1} poems plus a {n2}-line epilogue. If I read 3 lines a minute, how long will it take?",
        "A programmer fixes {n1} bugs a day but introduces {n2} new ones. Starting with {n3} bugs, when does the backlog hit zero?",
        "Four friends plan a trip: Ana won't go in winter, Ben only travels in summer or spring, and Cleo hates rain in spring. Which season works for all of them?",
        "If every summary is shorter than its article, and some articles are shorter than this summary, what can we conclude?",
        "A chatbot answers correctly {p}% of the time. If I ask it 3 questions, what's the chance it gets all of them right?",
        "In a data set, the mean is 50 and the median is 40. What does that tell you logically about the shape of the data, and why?",
        "Code puzzle without code: a loop runs while x < 100 and doubles x each time starting at 3. How many iterations? Reason it out.",
    ],
    "summarization": [
        "Summarize this {plang} tutorial:\n{ctx_long_article}", "Summarize this conversation between my coworkers:\n{ctx_chat}",
        "Summarize this data analysis report:\n{ctx_long_article}", "Give me the key points of this project plan:\n{ctx_notes}",
        "Summarize this {tlang} text in English:\n{ctx_foreign}", "Summarize this argument in one sentence: {ctx_argument}",
        "Summarize this table in plain English for my manager:\n{ctx_table}", "Summarize the plot of this poem: {story_start} ...",
        "Summarize this troubleshooting thread for the support wiki:\n{ctx_chat}", "Summarize this code review discussion:\n{ctx_chat}",
        "Give me a TL;DR of this translation guide:\n{ctx_article}",
    ],
    "translation": [
        "Translate this Python docstring into French:\n\"\"\"{docstring}\"\"\"", "Translate this poem into {tlang}, keeping the rhyme if you can:\n{poem}",
        "Translate the summary below into {tlang}:\n{ctx_article}", "Translate my project plan into {tlang}:\n{ctx_notes}",
        "Translate this error message for my colleague who only reads {tlang}: {ctx_error}", "How do you say 'data analysis' in {tlang}?",
        "Translate these chart labels into {tlang}: Revenue, Month, Growth rate, Forecast", "Translate this riddle into {tlang}: {riddle}",
        "Translate this customer complaint into English so I can solve it: {ctx_foreign}", "How do I say 'let's plan the trip together' in {tlang}?",
        "Translate the code comments in this file into English (leave the code as is):\n{ctx_code}",
    ],
    "conversation": [
        "I just wrote my first {plang} program and I'm so proud!! just wanted to tell someone",
        "haha I finally solved that riddle from yesterday, felt great. how are you?", "I've been translating my grandma's letters all week, it's been emotional. how's your day?",
        "just finished planning my wedding, I'm exhausted lol. how are you doing?", "thanks for the summary earlier, you're a lifesaver",
        "I love poetry. do you have a favorite poet?", "my code finally works and I'm so happy I could cry", "I don't want a plan or advice today, I just want to chat",
        "no questions today, just saying hi{tail}", "we solved the problem at work today! just wanted to share{tail}",
        "i've been staring at spreadsheets all day, my brain is mush lol. how's your evening?",
    ],
    "task_planning": [
        "Plan my week so I can finish the first draft of my novel.", "Make a study plan for learning {plang} in 8 weeks.",
        "Create a roadmap for migrating our codebase to TypeScript.", "Plan the steps to translate our website into 5 languages.",
        "Create a timeline for analyzing our survey data before the board meeting.", "Make a practice schedule for logic puzzles before the math olympiad.",
        "Plan the phases of our data warehouse project with milestones.", "Make me a schedule for writing one poem a day for a month.",
        "Create a checklist for fixing the problems found in our audit, in order of priority.", "Plan a weekly routine for practising {tlang} conversation.",
    ],
    "problem_solving": [
        "My printer won't print the translated contract and it's due today.", "Our team argues about how to write weekly summaries. How do we settle it?",
        "I'm a writer with terrible writer's block. What can I do to get unstuck?", "My laptop is too slow to run {plang}. Should I upgrade the RAM or buy a new one?",
        "My kid hates math word problems and cries at homework time. How do I help him?", "The translation agency missed our deadline. What should I do now?",
        "I can't decide whether to learn Spanish or French for my job.", "Our data team and marketing team keep fighting over reports. How do I fix this?",
        "My poetry club is losing members. How do we turn it around?", "My conversations with my boss always go badly. What am I doing wrong and how do I fix it?",
        "Our project plan keeps slipping because the vendor is late. What should we do?",
    ],
}
CROSS_SLOTS: dict[str, list] = {
    "docstring": ["Return the average of a list of numbers, or None if the list is empty.",
                  "Load the configuration file and validate every field before starting the server.",
                  "Send a reminder email to every user whose subscription expires within seven days."],
    "poem": ["Roses are red, the sky is grey, / I miss the sun on a winter day.",
             "The river runs where no one goes, / and carries all the things it knows."],
    "n1": ["3", "4", "5", "6", "8"], "n2": ["2", "3", "5", "7"], "n3": ["40", "120", "200", "360"],
    "p": ["80", "90", "95", "70"],
}

# ====================================================================== framing (intent-neutral)
PREAMBLES = [
    "hey so i'm working on {project} and", "Quick question.", "Hi there!", "ok so", "I have a question.", "Hello,",
    "Good morning!", "I've been stuck on this for an hour.", "Need some help here.", "This is for work.",
    "For {project}:", "My boss asked me this and I'm not sure.", "Hope you can help.", "Hi, I'm a {role}.",
    "As a {role},", "I'm a {role} and", "Context: I'm a {role} working on {project}.", "So,", "Hey!", "Hi!",
    "Sorry if this is a dumb question.", "Thanks in advance!", "Long story short,", "I'm new to this.",
    "hi, first time using this.", "For my {relation}:", "Weird request maybe.", "Can't figure this out.",
    "Hey, hope you're well.", "Okay, next one.", "One more thing.", "Here's what I need.",
]
POLITE_PREFIXES = ["Could you please ", "Can you ", "Please ", "I need you to ", "pls ", "I'd like you to ",
                   "Hey, can you ", "Kindly ", "Would you ", "Could you ", "can u ", "I want you to ",
                   "Would you be able to ", "Quick favour: can you "]
IMPERATIVE_VERBS = {"write", "create", "make", "give", "translate", "summarize", "summarise", "explain", "plan",
                    "compose", "fix", "analyze", "build", "help", "implement", "convert", "refactor", "tell",
                    "draft", "solve", "prove", "condense", "turn", "rewrite", "recap", "localize", "put", "map",
                    "lay", "organize", "break", "calculate", "identify", "detect", "compare", "rank", "forecast",
                    "interpret", "run", "find", "spot", "describe", "invent", "continue", "retell", "generate",
                    "add", "complete", "troubleshoot", "render", "set", "schedule", "crunch", "look", "come"}
GENERIC_CONSTRAINTS = ["Keep it short.", "Please be concise.", "Thanks!", "Make it easy to follow.", "ASAP please.",
                       "Be specific.", "No fluff."]

# Constraint bank names per intent (appended after the prompt; each one counts toward complexity).
CONSTRAINT_BANKS = {
    "question_answering": "c_qa", "creative_writing": "c_creative", "code_generation": "c_code",
    "data_analysis": "c_data", "reasoning": "c_reason", "summarization": "c_summ", "translation": "c_trans",
    "conversation": None, "task_planning": "c_plan", "problem_solving": "c_ps",
}
QA_SLOTS["c_qa"] = ["Keep it under 100 words.", "Give me an example.", "Use an analogy.", "Cite sources if you can.",
                    "Explain it for a 10-year-old.", "Just the short answer please.", "Include a bit of history.",
                    "Assume I know nothing about the subject.", "Go into detail.", "What are the common misconceptions too?",
                    "Bullet points please.", "I'm asking for a school essay."]

TEMPLATES = {
    intent: templates + BOUNDARY_TEMPLATES.get(intent, [])
    for intent, templates in {
        "question_answering": QA_TEMPLATES, "creative_writing": CW_TEMPLATES, "code_generation": CODE_TEMPLATES,
        "data_analysis": DA_TEMPLATES, "reasoning": RS_TEMPLATES, "summarization": SM_TEMPLATES,
        "translation": TR_TEMPLATES, "conversation": CV_TEMPLATES, "task_planning": TP_TEMPLATES,
        "problem_solving": PS_TEMPLATES,
    }.items()
}


def all_slots() -> dict[str, list]:
    """Every slot bank merged (later banks never silently replace an earlier one with other values)."""
    merged: dict[str, list] = {}
    for bank in (SHARED, QA_SLOTS, CW_SLOTS, CODE_SLOTS, DA_SLOTS, RS_SLOTS, SM_SLOTS, TR_SLOTS, CV_SLOTS,
                 TP_SLOTS, PS_SLOTS, CROSS_SLOTS, BOUNDARY_SLOTS, FOREIGN_SLOTS):
        for name, values in bank.items():
            if name in merged and merged[name] is not values and merged[name] != values:
                raise ValueError(f"slot {name!r} defined twice with different values")
            merged[name] = values
    for name, fn in CONTEXT_GENERATORS.items():
        merged[name] = [fn]
    merged["ctx_numbers2"] = merged["ctx_numbers"]
    return merged
