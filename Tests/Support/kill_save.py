#!/usr/bin/env python3
"""Kill `mira-store save` with SIGKILL at random moments, round after round.

    kill_save.py ROUNDS DATABASE

Each round pipes 40 finished turns into `mira-store save k` and kills it after
a random 0-150 ms (most rounds die mid-batch, some finish). After every round the database must pass PRAGMA
integrity_check and every turn must be whole (a user and an assistant
message) or absent. Prints a summary; exits 1 on the first violation.
"""
import json, os, random, signal, sqlite3, subprocess, sys, time

rounds, database = int(sys.argv[1]), sys.argv[2]
env = dict(os.environ, MIRA_DB=database)
random.seed(7)
killed = finished = 0

for r in range(rounds):
    batch = "".join(json.dumps({
        "session": "k", "turn": f"r{r}-t{t}", "input": f"message {r}.{t}",
        "reply": {"output": f"reply {r}.{t}", "persona": "default", "mood": "calm"},
    }) + "\n" for t in range(40)).encode()
    proc = subprocess.Popen(["mira-store", "save", "k", "--format", "json"], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc.stdin.write(batch)
    proc.stdin.close()
    time.sleep(random.uniform(0, 0.15))
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
    db.close()

db = sqlite3.connect(database)
has_table = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'messages'").fetchone()
count = db.execute("SELECT count(*) FROM messages").fetchone()[0] if has_table else 0
print(f"{rounds} rounds, {killed} killed mid-run, {finished} finished; "
      f"{count // 2} whole turns stored; integrity ok")
