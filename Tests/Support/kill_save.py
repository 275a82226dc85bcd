#!/usr/bin/env python3
"""Kill `mira-store save` with SIGKILL at random moments, round after round.

    kill_save.py ROUNDS DATABASE

Each round pipes 200 finished turns into `mira-store save k` and kills it at
a random point between 10% and 90% of how long an unkilled save of such a
batch takes, so the kills land while turns are being written, not after the
process is done. The unkilled saves run on a scratch database beside DATABASE,
one before every round (the median of the last three is used): a machine
whose load changes during the loop still gets kills that land mid-write. (With
40 turns the process start-up was a third of a save: many kills came before
the first turn was stored.)

After every round the database must pass PRAGMA integrity_check and every
turn must be whole (a user and an assistant message) or absent. A round is
"mid-write" when it stored some of its turns but not all. Prints one
summary line (`... N mid-write ...`); exits 1 on the first violation.
"""
import json, os, random, signal, sqlite3, subprocess, sys, time

rounds, database = int(sys.argv[1]), sys.argv[2]
TURNS = 200
random.seed(7)


def batch(prefix):
    return "".join(json.dumps({
        "session": "k", "turn": f"{prefix}-t{t}", "input": f"message {prefix}.{t}",
        "reply": {"output": f"reply {prefix}.{t}", "persona": "default", "mood": "calm"},
    }) + "\n" for t in range(TURNS)).encode()


def start(db, data):
    proc = subprocess.Popen(["mira-store", "save", "k", "--format", "json"],
                            env=dict(os.environ, MIRA_DB=db), stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc.stdin.write(data)
    proc.stdin.close()
    return proc


scratch = database + ".calibrate"
durations = []


def unkilled_save(c):
    """Times one unkilled save on the scratch database (which is remade now
    and then: the first save into it makes the schema and is not timed)."""
    if c % 20 == 0:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(scratch + suffix):
                os.remove(scratch + suffix)
        if start(scratch, batch(f"c{c}-schema")).wait() != 0:
            sys.exit("calibration save failed")
    began = time.monotonic()
    if start(scratch, batch(f"c{c}")).wait() != 0:
        sys.exit("calibration save failed")
    durations.append(time.monotonic() - began)


unkilled_save(0)
unkilled_save(1)
killed = finished = midwrite = 0
for r in range(rounds):
    unkilled_save(r + 2)
    recent = sorted(durations[-3:])
    duration = recent[len(recent) // 2]
    proc = start(database, batch(f"r{r}"))
    time.sleep(random.uniform(0.1, 0.9) * duration)
    proc.send_signal(signal.SIGKILL)
    code = proc.wait()
    killed += code == -signal.SIGKILL
    finished += code == 0

    db = sqlite3.connect(database)
    check = db.execute("PRAGMA integrity_check").fetchone()[0]
    if check != "ok":
        sys.exit(f"round {r}: integrity_check says {check}")
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'messages'").fetchone():
        db.close()
        continue  # killed before the schema was made: nothing stored, nothing half
    broken = db.execute("""
        SELECT turn, group_concat(role, ',') FROM (SELECT turn, role FROM messages ORDER BY id)
        GROUP BY turn HAVING group_concat(role, ',') != 'user,assistant'""").fetchall()
    if broken:
        sys.exit(f"round {r}: half turns {broken[:3]}")
    stored = db.execute("SELECT count(DISTINCT turn) FROM messages WHERE turn LIKE ?", (f"r{r}-t%",)).fetchone()[0]
    midwrite += 0 < stored < TURNS
    db.close()

db = sqlite3.connect(database)
has_table = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'messages'").fetchone()
count = db.execute("SELECT count(*) FROM messages").fetchone()[0] if has_table else 0
for suffix in ("", "-wal", "-shm"):
    if os.path.exists(scratch + suffix):
        os.remove(scratch + suffix)
median = sorted(durations)[len(durations) // 2]
print(f"{rounds} rounds, {killed} killed, {finished} finished, {midwrite} mid-write "
      f"(unkilled save {median * 1000:.0f} ms median); {count // 2} whole turns stored; integrity ok")
