#!/usr/bin/env python3
"""Writes the memory quality benchmark's data set: one person's long history
with Mira, facts planted in early sessions, and later questions about them.

    python3 quality_data.py OUT_DIR [--sessions 150] [--seed 7] [--end 2026-12-01]

OUT_DIR/messages.jsonl  every message, as `mira-store import` reads them
OUT_DIR/queries.jsonl   {"query", "fact", "kind"}: a later question and the
                        exact text of the message that answers it

Each fact is asked about twice, in two kinds of question:
- "paraphrase": other words for the same thing ("my sibling's job" for "my
  sister is a marine biologist"), where meaning must carry the search;
- "keyword": a rare word of the fact (a name, a place) in a sentence that is
  otherwise about something else, where the exact word must carry it.
Around the facts are small-talk turns (built from parts, so few repeat
exactly) and distractors: messages that share a fact's topic words or its
rare word but do not answer the question. Distractors come in later
sessions, so they are newer than the facts, as in life.

The sessions run over about ten months and end on --end; the benchmark
passes the day it runs, so every message has the same age in every run
(recall weighs recency). The same seed and --end write the same bytes.
"""
import argparse
import datetime
import json
import os
import random

# (fact said by the user, paraphrased question, keyword question, distractors)
FACTS = [
    ("My sister Priya works as a marine biologist in Lisbon.",
     "What does my sibling do for a living?",
     "Did I ever tell you anything about Priya?",
     ["My coworker went to Lisbon for a conference and hated the hills.",
      "I watched a documentary about whales last night, pretty calm stuff."]),
    ("I have a ginger cat called Miso who sleeps on my keyboard.",
     "Do you remember anything about my pet?",
     "Miso knocked something over again, guess who.",
     ["I made miso soup for dinner, first time it tasted right.",
      "The neighbour's dog barks every morning at six."]),
    ("I'm allergic to peanuts, I carry an epipen everywhere.",
     "Is there any food I can't eat?",
     "Should I worry about the epipen expiring?",
     ["Peanut butter cookies were on sale and I walked right past them.",
      "My friend is allergic to cats which makes visits awkward."]),
    ("I grew up in Tromsø, way up in northern Norway.",
     "Where did I spend my childhood?",
     "What's the weather like in Tromsø this time of year?",
     ["Norway keeps showing up in my travel ads.",
      "I spent my childhood summers mostly reading comics."]),
    ("I play the cello in a community orchestra on Thursdays.",
     "What musical instrument do I play?",
     "The orchestra rehearsal ran late again.",
     ["Thursdays are always my busiest day at work.",
      "I listened to a cello concerto on the train."]),
    ("My partner Dana is a firefighter and works night shifts.",
     "What is my boyfriend or girlfriend's job?",
     "Dana says hi, by the way.",
     ["Night shifts at the hospital sound brutal.",
      "There was a fire drill at the office today."]),
    ("I'm training for the Berlin marathon in September.",
     "What race am I preparing for?",
     "I booked a hotel near the Brandenburg Gate for Berlin.",
     ["September always feels like a second new year.",
      "I ran to the bus this morning and nearly died."]),
    ("I'm a backend developer writing Rust at a logistics startup.",
     "What kind of work do I do?",
     "The Rust compiler yelled at me all afternoon.",
     ["My cousin works in logistics, trucks and warehouses.",
      "Startups seem exhausting from the outside."]),
    ("I'm vegetarian since I was fourteen.",
     "Do I eat meat?",
     "Any vegetarian dinner ideas for tonight?",
     ["I was fourteen when I got my first phone.",
      "The canteen served mystery stew again."]),
    ("My grandmother Rosa taught me to bake sourdough.",
     "Who taught me how to make bread?",
     "Rosa would have loved this weather.",
     ["Sourdough starters are a whole personality now.",
      "My grandfather never cooked a single meal."]),
    ("I'm scared of deep water since a boating accident as a kid.",
     "What am I afraid of?",
     "Friends want to rent a boating trip, ugh.",
     ["The pool was too cold to swim today.",
      "I watched an accident report on the news."]),
    ("I drive a rusty blue 1998 Volvo estate.",
     "What car do I have?",
     "The Volvo made a weird noise again.",
     ["Blue is not my favourite colour, green is.",
      "My brother just bought an electric car."]),
    ("I'm learning Japanese and practise kanji every evening.",
     "Which language am I studying?",
     "I finally remembered the kanji for rain.",
     ["Japanese food is the best comfort food.",
      "Evening walks clear my head."]),
    ("My best friend Tomasz moved to Montreal last spring.",
     "Where does my closest friend live now?",
     "Tomasz sent a postcard!",
     ["Montreal bagels are apparently better than New York ones.",
      "Spring cleaning took the whole weekend."]),
    ("I have type 1 diabetes and check my blood sugar a lot.",
     "Do I have any health condition?",
     "My insulin pen broke, fun morning.",
     ["Sugar in coffee is a crime, fight me.",
      "My doctor's office moved across town."]),
    ("I collect vintage fountain pens, about forty of them now.",
     "What is my hobby that involves collecting?",
     "Found a Pelikan at the flea market today.",
     ["Forty emails waiting after the holiday.",
      "Vintage clothes shops are my weakness too."]),
    ("My son Leo just started primary school.",
     "How old is my child, roughly?",
     "Leo drew a dinosaur for you.",
     ["The school near us is getting a new roof.",
      "Primary colours everywhere in the new office."]),
    ("I work as a nurse in a children's hospital in Leeds.",
     "Where do I work?",
     "Traffic in Leeds was awful today.",
     ["Hospital dramas on TV are so unrealistic.",
      "Children's books are surprisingly good to read aloud."]),
    ("I'm colour-blind, reds and greens look the same to me.",
     "Is there something unusual about my eyesight?",
     "The colour-coded spreadsheet at work was useless to me.",
     ["The leaves are turning red outside.",
      "My glasses need a new prescription."]),
    ("I moved here from Nairobi three years ago.",
     "Where did I live before?",
     "Saw a photo of Nairobi's skyline and got homesick.",
     ["Three years at this job next month.",
      "Moving boxes are still in the garage."]),
    ("My dad Henrik runs a small bookshop in Aarhus.",
     "What does my father do?",
     "Henrik called, he sounded tired.",
     ["The bookshop on the corner is closing down, sad.",
      "Aarhus came up in a quiz show and nobody knew it."]),
    ("I'm doing a part-time master's degree in urban planning.",
     "Am I studying anything at the moment?",
     "My urban planning essay is due Friday.",
     ["The city is planning yet another roundabout near us.",
      "Part-time jobs in my town pay terribly."]),
    ("I suffer from migraines, bright screens make them worse.",
     "Do I get headaches often?",
     "Another migraine today, stayed in the dark.",
     ["The new phone screen is very bright.",
      "My coworker gets headaches from the office lights."]),
    ("I'm lactose intolerant, so no milk in my coffee.",
     "Is there anything dairy-related I should avoid?",
     "Is oat stuff okay if you're lactose intolerant?",
     ["We ran out of milk again.",
      "The coffee machine at work broke down."]),
    ("My daughter Ines is six and obsessed with horses.",
     "What is my little girl into?",
     "Ines wants riding lessons for her birthday.",
     ["The horses at the farm down the road are huge.",
      "Six hours of meetings today, I'm fried."]),
    ("I climb at a bouldering gym three times a week.",
     "What sport do I do regularly?",
     "Tore a callus bouldering, ouch.",
     ["The gym by the station is always packed.",
      "Three times this week the bus skipped my stop."]),
    ("I'm saving up to buy a flat in Porto next year.",
     "What am I saving my money for?",
     "Looked at listings in Porto again tonight.",
     ["Port wine is too sweet for me.",
      "Next year I want to read more books."]),
    ("I keep bees on my allotment, two hives.",
     "Do I have any unusual outdoor hobby?",
     "The hives need checking before the frost.",
     ["A bee got into the kitchen and panic followed.",
      "My allotment neighbour grows absurd pumpkins."]),
    ("My mother Amara is a retired judge.",
     "What did my mum do for work?",
     "Amara is visiting next weekend.",
     ["I got called up for jury duty, ugh.",
      "Retired people in my street run everything."]),
    ("I've been sober for two years now, no alcohol at all.",
     "Do I drink?",
     "Two years sober next week, feels unreal.",
     ["The pub quiz team needs a new name.",
      "Two years ago I could not cook anything."]),
]

# Small talk is built from parts so a long history repeats itself rarely,
# as a real one does; none of it answers a question about a fact.
OPENERS = ["", "Honestly, ", "Ugh, ", "So ", "Okay so ", "Funny thing, ", "Anyway, ", "Random thought: ",
           "Not much news, ", "Quick update: "]
EVENTS = [
    "the bus was late again", "work was fine, nothing special", "I had the strangest dream last night",
    "I can't decide what to watch tonight", "my plants are thriving for once", "the wifi died twice today",
    "I'm trying to sleep earlier this week", "groceries are so expensive lately", "I finished a book finally",
    "my back hurts from sitting all day", "the sunset was unreal tonight", "I cleaned the whole flat",
    "I burnt the toast again", "it rained all afternoon", "the meeting could have been an email",
    "I found a great new podcast", "someone parked in my spot", "I forgot my umbrella twice this week",
    "the printer jammed at the worst moment", "I bought too many snacks", "my phone battery is dying so fast",
    "I tried a new recipe and it was okay", "the washing machine is making noises", "I walked for an hour",
    "the neighbours had a party", "I spent the evening doing laundry", "the train was packed",
    "I reorganised my desk", "I watched two episodes and fell asleep", "I lost my keys for ten minutes",
    "it was surprisingly warm today", "I stayed in and did nothing", "the supermarket was out of bread",
    "I had a long call with the bank", "my inbox is a disaster", "I got a parking ticket",
    "the heating is broken again", "I fixed the wobbly chair", "I listened to an old album",
    "I cancelled plans and felt relieved", "I made a to-do list and ignored it",
]
ENDINGS = ["", "", ".", " haha.", ", whatever.", ", classic.", ", as usual.", "!", ", ugh.", " to be honest."]
QUESTIONS = [
    "What do you think about rainy Sundays?", "Coffee or tea, what's your vote?", "Do you ever get bored?",
    "Tell me something funny.", "Any idea what I should cook tonight?", "What would you do on a free day?",
    "Is it weird that I like Mondays?", "What's a good way to wind down?", "Do you like puzzles?",
    "What's your favourite season?", "Should I get a haircut?", "Is it too early for a nap?",
    "Any tips for staying focused?", "What's a good film for a lazy evening?", "How was your day?",
]
REPLIES = [
    "Ha, tell me more.", "That sounds like a lot, honestly.", "I'm listening.", "Mm, I like that.",
    "Oof. Want to vent?", "That made me smile.", "You always notice the small things.", "Okay, noted, go on.",
    "That's a very you thing to say.", "Sounds like a proper day.", "Rest counts as doing something.",
    "I'd have done the same.", "Small wins still count.", "Tell me how it turns out.",
    "That would annoy me too.", "Honestly, good for you.", "Hm, I'm not sure, what do you think?",
    "Sounds cosy.", "Ouch. Hope tomorrow is kinder.", "You deserve a quiet evening.",
]


def small_talk(rng):
    if rng.random() < 0.2:
        return rng.choice(QUESTIONS)
    text = rng.choice(OPENERS) + rng.choice(EVENTS) + rng.choice(ENDINGS)
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def build(sessions, seed, end):
    rng = random.Random(seed)
    messages, queries = [], []
    # Facts are told in the first third of the sessions; distractors only
    # after it, so they are newer than the facts they resemble.
    early = max(1, sessions // 3)
    late = sessions - early
    spacing = 2  # days between sessions on average
    first_day = end - datetime.timedelta(days=spacing * sessions)
    told = {}
    for k in range(len(FACTS)):
        told.setdefault(k % early, []).append(k)
    distractors = [d for _, _, _, ds in FACTS for d in ds]
    # Every distractor at least once in a late session, some more than once.
    placed = {}
    for j, d in enumerate(distractors):
        for s in {early + (j * 7) % max(1, late), early + (j * 13 + 5) % max(1, late)}:
            placed.setdefault(s, []).append(d)
    for s in range(sessions):
        day = first_day + datetime.timedelta(days=spacing * s + rng.randint(0, spacing - 1))
        start = datetime.datetime(day.year, day.month, day.day, rng.randint(7, 21), rng.randint(0, 59))
        said = [small_talk(rng) for _ in range(rng.randint(10, 20))]
        for text in [FACTS[k][0] for k in told.get(s, [])] + placed.get(s, []):
            said.insert(rng.randrange(len(said) + 1), text)
        for t, text in enumerate(said):
            time = (start + datetime.timedelta(minutes=2 * t)).strftime("%Y-%m-%dT%H:%M:00Z")
            turn = f"t{t:03d}"
            messages.append({"session": f"s{s:03d}", "turn": turn, "role": "user", "content": text, "time": time})
            messages.append({"session": f"s{s:03d}", "turn": turn, "role": "assistant", "content": rng.choice(REPLIES),
                             "persona": "default", "mood": "warm", "time": time})
    for fact, paraphrase, keyword, _ in FACTS:
        queries.append({"query": paraphrase, "fact": fact, "kind": "paraphrase"})
        queries.append({"query": keyword, "fact": fact, "kind": "keyword"})
    return messages, queries


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--sessions", type=int, default=150)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--end", default="2026-12-01", help="the day of the last session, YYYY-MM-DD")
    args = ap.parse_args()
    if not 3 <= args.sessions <= 100_000:
        ap.error("--sessions must be 3 to 100000 (a third of them tell the facts)")
    try:
        end = datetime.date.fromisoformat(args.end)
    except ValueError:
        ap.error(f"--end {args.end!r} is not a date YYYY-MM-DD")
    messages, queries = build(args.sessions, args.seed, end)
    os.makedirs(args.out, exist_ok=True)
    for name, rows in (("messages.jsonl", messages), ("queries.jsonl", queries)):
        with open(os.path.join(args.out, name), "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(messages)} messages, {len(queries)} queries in {args.out}")


if __name__ == "__main__":
    main()
