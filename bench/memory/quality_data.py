#!/usr/bin/env python3
"""Writes the memory quality benchmark's data set: one person's long history
with Mira, facts planted in early sessions, and later questions about them.

    python3 quality_data.py OUT_DIR [--sessions 60] [--seed 7]

OUT_DIR/messages.jsonl  every message, as `mira-store import` reads them
OUT_DIR/queries.jsonl   {"query", "fact", "kind"}: a later question and the
                        exact text of the message that answers it

Each fact is asked about twice, in two kinds of question:
- "paraphrase": other words for the same thing ("my sibling's job" for "my
  sister is a marine biologist"), where meaning must carry the search;
- "keyword": a rare word of the fact (a name, a place) in a sentence that is
  otherwise about something else, where the exact word must carry it.
Around the facts are small-talk turns and distractors: messages that share a
fact's topic words or its rare word but do not answer the question. The same
seed writes the same bytes, so runs compare.
"""
import argparse
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
]

SMALL_TALK = [
    "Long day today, honestly.", "What do you think about rainy Sundays?",
    "I can't decide what to watch tonight.", "Coffee or tea, what's your vote?",
    "My plants are thriving for once.", "Work was fine, nothing special.",
    "I had the strangest dream last night.", "Do you ever get bored?",
    "The bus was late again.", "I'm trying to sleep earlier this week.",
    "Tell me something funny.", "I think I need a holiday.",
    "Podcasts are carrying me through chores.", "Groceries are so expensive lately.",
    "I finished a book finally.", "The wifi died twice today.",
    "Weekend plans: absolutely nothing.", "I cleaned the whole flat, feel great.",
    "My back hurts from sitting all day.", "The sunset was unreal tonight.",
]

REPLIES = [
    "Ha, tell me more.", "That sounds like a lot, honestly.", "I'm listening.",
    "Mm, I like that.", "Oof. Want to vent?", "That made me smile.",
    "You always notice the small things.", "Okay, noted, go on.",
]


def build(sessions, seed):
    rng = random.Random(seed)
    messages, queries = [], []
    # Facts are told in the first third of the sessions, asked about in the last third.
    early = max(1, sessions // 3)
    day = 0
    for s in range(sessions):
        day += rng.randint(1, 4)
        session = f"s{s:03d}"
        said = []
        for t in range(rng.randint(12, 24)):
            said.append(rng.choice(SMALL_TALK))
        for k, (fact, _, _, distractors) in enumerate(FACTS):
            if k % early == s and s < early:
                said.insert(rng.randrange(len(said) + 1), fact)
            for d in distractors:
                if rng.random() < 0.5 / early and s >= early:
                    said.insert(rng.randrange(len(said) + 1), d)
        for t, text in enumerate(said):
            time = f"2026-{1 + (day // 28) % 12:02d}-{1 + day % 28:02d}T{8 + t // 6:02d}:{(t * 7) % 60:02d}:00Z"
            turn = f"t{t:03d}"
            messages.append({"session": session, "turn": turn, "role": "user", "content": text, "time": time})
            messages.append({"session": session, "turn": turn, "role": "assistant",
                             "content": rng.choice(REPLIES), "persona": "default", "mood": "warm", "time": time})
    # Every distractor at least once, so each rare word also appears off-topic.
    for k, (_, _, _, distractors) in enumerate(FACTS):
        for j, d in enumerate(distractors):
            session = f"s{sessions - 1 - (k + j) % max(1, sessions - early):03d}"
            messages.append({"session": session, "turn": f"d{k:02d}{j}", "role": "user", "content": d,
                             "time": "2026-12-01T12:00:00Z"})
    for fact, paraphrase, keyword, _ in FACTS:
        queries.append({"query": paraphrase, "fact": fact, "kind": "paraphrase"})
        queries.append({"query": keyword, "fact": fact, "kind": "keyword"})
    return messages, queries


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--sessions", type=int, default=60)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    messages, queries = build(args.sessions, args.seed)
    os.makedirs(args.out, exist_ok=True)
    for name, rows in (("messages.jsonl", messages), ("queries.jsonl", queries)):
        with open(os.path.join(args.out, name), "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(messages)} messages, {len(queries)} queries in {args.out}")


if __name__ == "__main__":
    main()
