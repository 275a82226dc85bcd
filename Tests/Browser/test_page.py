#!/usr/bin/env python3
"""The page at `/` in a real browser: headless Chromium driven by Selenium,
against mira-serve and the fake model server (Tests/Support/fake_openai.py),
whose replies stream slowly (--stream-gap) so the page can be seen writing.

Run through Tests/Browser/run.sh, which builds mira-serve and installs
Selenium. One pair of servers for the whole run, on a scratch database and
XDG folders in a temporary directory; each test opens fresh browser profiles
(their own --user-data-dir, so their own mira_id cookie: their own identity).
Every wait is for a condition on the page, never a fixed sleep.
"""
import argparse
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

WAIT = 30  # seconds a condition may take on a busy 2-core machine
STREAM_GAP_MS = 40  # the fake's silence after each half event: a reply takes about a second
ARGS = None  # the command line, set in main()
SERVERS = None  # the running servers, set in setUpModule()


def die_with_parent():
    """In the child before exec: SIGTERM when this test process dies, however."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Servers:
    """The fake model server and mira-serve, started for the run and always stopped."""

    def __init__(self, folder):
        self.folder = folder
        self.processes = []
        try:
            self.fake_url = self._start_fake()
            self.url = self._start_serve("serve")
            # A second one that allows one turn a minute, for the page's view of 429.
            self.limited_url = self._start_serve("limited", "--turns-per-minute", "1")
        except BaseException:
            self.stop()
            raise

    def _spawn(self, argv, log, **options):
        """Starts a server, its stderr into a file in the scratch folder, and
        returns the first line it prints (where it says its port)."""
        with open(os.path.join(self.folder, log), "w") as err:
            process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True,
                                       preexec_fn=die_with_parent, **options)
        self.processes.append(process)
        return process.stdout.readline().strip()

    def _start_fake(self):
        line = self._spawn([sys.executable, ARGS.fake, "--port", "0", "--stream-gap", str(STREAM_GAP_MS),
                            "--exit-on-stdin-eof"], "fake.err", stdin=subprocess.PIPE)
        if not line.startswith("PORT="):
            raise RuntimeError(f"the fake model server did not start: {line!r} (see {self.folder}/fake.err)")
        return f"http://127.0.0.1:{line[5:]}"

    def _start_serve(self, name, *options):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MIRA_", "OPENAI_"))}
        env.update({
            "XDG_CONFIG_HOME": os.path.join(self.folder, "config"),
            "XDG_STATE_HOME": os.path.join(self.folder, "state"),
            "XDG_DATA_HOME": os.path.join(self.folder, "data"),
            "OPENAI_BASE_URL": self.fake_url + "/v1",
            "OPENAI_API_KEY": "sk-test-not-a-real-key",
            "MIRA_EMBED_MODEL": "fake-embedding",  # memory on: facts, recall, the memory view
            "MIRA_EMBED_BASE_URL": self.fake_url + "/v1",
        })
        line = self._spawn([ARGS.serve, "--port", "0", "--db", os.path.join(self.folder, name + ".db"), *options],
                           name + ".err", env=env, stdin=subprocess.DEVNULL)
        found = re.fullmatch(r"mira-serve: listening on (http://\S+)", line)
        if not found:
            with open(os.path.join(self.folder, name + ".err")) as err:
                raise RuntimeError(f"mira-serve did not start: {line!r} {err.read().strip()}")
        return found.group(1)

    def behave(self, behaviour):
        """Switches the fake model's behaviour (see fake_openai.py's header)."""
        request = urllib.request.Request(self.fake_url + "/control", data=json.dumps({"behaviour": behaviour}).encode(),
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=10).read()

    def stop(self):
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            for pipe in (process.stdin, process.stdout):
                if pipe:
                    pipe.close()


def setUpModule():
    global SERVERS
    folder = tempfile.mkdtemp(prefix="mira-browser-")
    try:
        SERVERS = Servers(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def tearDownModule():
    if SERVERS:
        SERVERS.stop()
        shutil.rmtree(SERVERS.folder, ignore_errors=True)


class Browser:
    """One headless Chromium with a profile of its own (its own identity)."""

    def __init__(self, width=1000, height=760, phone=False):
        self.profile = tempfile.mkdtemp(prefix="mira-profile-")
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium")
        if phone:  # a headless window is at least 500 px wide: emulate the phone's screen instead
            options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 1}})
        for flag in ("--headless=new", f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
                     "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-extensions", "--disable-sync", "--disable-background-networking",
                     "--password-store=basic", "--hide-scrollbars"):
            options.add_argument(flag)
        if os.geteuid() == 0:
            options.add_argument("--no-sandbox")  # Chromium's sandbox refuses to run as root
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(executable_path=shutil.which("chromedriver"), popen_kw={"preexec_fn": die_with_parent})
        try:
            self.driver = webdriver.Chrome(options=options, service=service)
        except BaseException:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise

    def quit(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    # What a person does

    def open(self, url=None):
        self.driver.get((url or SERVERS.url) + "/")
        self.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true",
                   "the page to finish loading")

    def reload(self):
        self.driver.refresh()
        self.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true",
                   "the page to finish loading again")

    def say(self, text):
        """Types the message and presses Enter (which sends)."""
        box = self.find("#message")
        box.send_keys(text)
        box.send_keys(Keys.ENTER)

    def say_and_wait(self, text):
        """Sends the message and waits for the reply, with its persona · mood line, under it."""
        before = len(self.finds("#log .assistant .note"))
        self.say(text)
        self.until(lambda d: len(self.finds("#log .assistant .note")) > before, f"a reply to {text!r}")
        return self.messages()[-1]

    # What is on the page

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def finds(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def messages(self):
        """The log as (role, text, note) triples; note "" on the person's own."""
        return self.driver.execute_script("""
            return [...document.querySelectorAll("#log .message")].map((m) => [
              m.classList.contains("user") ? "user" : "assistant",
              m.querySelector(".text").textContent,
              m.querySelector(".note") ? m.querySelector(".note").textContent : ""]);""")

    # Lists are read in one script call: the page redraws them after each reply.
    def facts(self):
        return self.driver.execute_script(
            'return [...document.querySelectorAll("#facts li > span:first-child")].map((s) => s.textContent)')

    def conversations(self):
        return self.driver.execute_script(
            'return [...document.querySelectorAll("#conversations .conversation")].map((b) => b.textContent)')

    def forget(self, fact):
        """Clicks Forget beside the fact."""
        self.driver.execute_script("""
            for (const li of document.querySelectorAll("#facts li"))
              if (li.firstChild.textContent === arguments[0]) li.querySelector(".forget").click();""", fact)

    def until(self, condition, what, timeout=WAIT):
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(condition)
        except TimeoutException:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}; the log holds {self.messages()!r}, "
                                 f"the problem line says {self.find('#problem').text!r}") from None

    def page_errors(self):
        """Console lines that mean the page broke: script errors and CSP refusals."""
        return [entry["message"] for entry in self.driver.get_log("browser")
                if "Content Security Policy" in entry["message"] or "Uncaught" in entry["message"]]


class PageTests(unittest.TestCase):
    def setUp(self):
        self.browsers = []
        SERVERS.behave("normal")

    def tearDown(self):
        try:
            for browser in self.browsers:
                errors = browser.page_errors()
                self.assertEqual(errors, [], "the page logged script errors or CSP refusals")
        finally:
            for browser in self.browsers:
                browser.quit()

    def browser(self, **size):
        browser = Browser(**size)
        self.browsers.append(browser)
        return browser

    def test_page_loads_under_a_strict_policy(self):
        with urllib.request.urlopen(SERVERS.url + "/", timeout=10) as answer:
            policy = answer.headers["Content-Security-Policy"]
        self.assertIn("script-src 'self'", policy)
        self.assertIn("style-src 'self'", policy)
        self.assertNotIn("unsafe-inline", policy)
        self.assertNotIn("unsafe-eval", policy)
        b = self.browser()
        b.open()
        self.assertEqual(b.driver.title, "Mira")
        self.assertTrue(b.find("#message").is_displayed())
        self.assertTrue(b.find("#new").is_displayed())
        self.assertEqual(b.find("#persona").get_attribute("value"), "", "the persona menu starts on auto")
        self.assertEqual(b.messages(), [], "a new browser has no conversation")

    def test_a_reply_appears_while_it_streams(self):
        b = self.browser()
        b.open()
        # Record every state of the page from here on: whether the typing line
        # shows, the reply's text so far, and whether it is finished (has its note).
        b.driver.execute_script("""
            window.seen = [];
            const look = () => {
              const reply = document.querySelector("#log .assistant");
              window.seen.push({typing: !document.getElementById("typing").hidden,
                                user: document.querySelectorAll("#log .user").length,
                                box: document.getElementById("message").value,
                                text: reply ? reply.querySelector(".text").textContent : null,
                                done: !!(reply && reply.querySelector(".note"))});
            };
            new MutationObserver(look).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});""")
        role, text, note = b.say_and_wait("hello Mira")
        seen = b.driver.execute_script("return window.seen")
        self.assertEqual(role, "assistant")
        self.assertTrue(text.startswith("echo: hello Mira"), text)
        self.assertRegex(note, r"^\w+ · curious$")
        self.assertTrue(any(s["typing"] and s["user"] == 1 and not s["text"] for s in seen),
                        "the typing line showed before any words arrived")
        # Before the reply is done its text is a beginning of the final one (the
        # last piece may end with a newline); at least two shorter ones were shown.
        partial = {s["text"] for s in seen if s["text"] and not s["done"]}
        self.assertTrue(all(text.startswith(p.rstrip("\n")) for p in partial),
                        f"every text shown while streaming began the reply: {partial!r}")
        shorter = {p for p in partial if len(p.rstrip("\n")) < len(text)}
        self.assertGreaterEqual(len(shorter), 2, f"the reply grew piece by piece: {partial!r}")
        self.assertFalse(b.find("#typing").is_displayed(), "the typing line is gone once the reply is in")
        self.assertTrue(all(s["box"] == "" for s in seen if s["user"] == 1), "the box emptied as the message went")

    def test_shift_enter_makes_a_new_line_and_does_not_send(self):
        b = self.browser()
        b.open()
        box = b.find("#message")
        box.send_keys("first line")
        ActionChains(b.driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
        box.send_keys("second line")
        self.assertEqual(box.get_attribute("value"), "first line\nsecond line")
        self.assertEqual(b.messages(), [], "Shift+Enter sent nothing")
        box.send_keys(Keys.ENTER)
        b.until(lambda d: len(b.finds("#log .assistant .note")) == 1, "the two-line message's reply")
        self.assertEqual(b.messages()[0], ["user", "first line\nsecond line", ""])

    def test_a_reload_keeps_the_conversation(self):
        b = self.browser()
        b.open()
        b.say_and_wait("remember this morning")
        b.say_and_wait("and this afternoon")
        before = b.messages()
        self.assertEqual(len(before), 4)
        b.reload()
        b.until(lambda d: b.messages() == before, "the same four messages after the reload")

    def test_a_second_profile_sees_nothing_of_the_first(self):
        first = self.browser()
        first.open()
        first.say_and_wait("my name is Zephyrine and I have a cat called Quillon")
        first.until(lambda d: len(first.facts()) == 2, "the first profile's two facts in its memory panel")
        other = self.browser()
        other.open()
        self.assertEqual(other.messages(), [])
        self.assertEqual(other.conversations(), [], "no conversation of the first profile is listed")
        self.assertEqual(other.facts(), [], "no memory of the first profile is shown")
        _, text, _ = other.say_and_wait("tell me about my cat and my name")
        self.assertNotIn("Quillon", text, "the second profile's turn recalls nothing of the first's")
        self.assertNotIn("Zephyrine", text)
        page = other.find("body").text
        self.assertNotIn("Zephyrine", page)
        self.assertNotIn("Quillon", page)
        self.assertEqual(other.facts(), [])

    def test_markup_in_a_reply_shows_as_text(self):
        b = self.browser()
        b.open()
        markup = '<img src=x onerror="window.pwned=1"><b>bold</b>'
        _, text, _ = b.say_and_wait(markup)
        self.assertIn(markup, text, "the reply (an echo of the message) shows the markup as text")
        self.assertEqual(b.messages()[0][1], markup, "the person's own message shows as text")
        self.assertEqual(b.finds("#log img"), [], "no image element was made")
        self.assertEqual(b.finds("#log b"), [], "no bold element was made")
        self.assertIsNone(b.driver.execute_script("return window.pwned"), "no handler ran")
        b.reload()
        b.until(lambda d: len(b.messages()) == 2, "the conversation after the reload")
        self.assertIn(markup, b.messages()[1][1])
        self.assertEqual(b.finds("#log img"), [], "history too goes in as text")

    def test_a_failed_turn_keeps_the_message_and_retry_sends_it(self):
        b = self.browser()
        b.open()
        SERVERS.behave("401")  # the model server refuses the key: the turn fails at once
        b.say("please do not lose me")
        b.until(lambda d: b.find("#problem").is_displayed(), "the problem line")
        self.assertIn("Not sent", b.find("#problem-text").text)
        self.assertTrue(b.find("#retry").is_displayed())
        self.assertEqual(b.find("#message").get_attribute("value"), "please do not lose me", "the message is back in the box")
        self.assertEqual(b.messages(), [["user", "please do not lose me", ""]], "no reply, the message marked unsent")
        self.assertEqual(len(b.finds("#log .unsent")), 1)
        SERVERS.behave("normal")
        b.find("#retry").click()
        b.until(lambda d: len(b.finds("#log .assistant .note")) == 1, "the reply to the retried message")
        messages = b.messages()
        self.assertEqual([m[0] for m in messages], ["user", "assistant"], "the message once, then the reply")
        self.assertTrue(messages[1][1].startswith("echo: please do not lose me"), messages[1][1])
        self.assertFalse(b.find("#problem").is_displayed())
        self.assertEqual(b.finds("#log .unsent"), [])
        self.assertEqual(b.find("#message").get_attribute("value"), "")

    def test_the_persona_menu_switches_between_turns_and_is_kept(self):
        b = self.browser()
        b.open()
        menu = Select(b.find("#persona"))
        names = [o.get_attribute("value") for o in menu.options]
        self.assertEqual(names[0], "", "the first choice is auto")
        self.assertGreaterEqual(len(names), 3, f"auto and the personas: {names!r}")
        chosen_by_model = b.say_and_wait("hello there")[2].split(" · ")[0]
        forced = next(n for n in names[1:] if n != chosen_by_model)
        menu.select_by_value(forced)
        self.assertEqual(b.say_and_wait("hello again")[2].split(" · ")[0], forced, "the next turn has the chosen persona")
        b.reload()
        self.assertEqual(b.find("#persona").get_attribute("value"), forced, "the choice outlives a reload")
        self.assertEqual(b.say_and_wait("and once more")[2].split(" · ")[0], forced)
        Select(b.find("#persona")).select_by_value("")
        self.assertEqual(b.say_and_wait("back to you")[2].split(" · ")[0], chosen_by_model, "auto: the model picks again")
        notes = [m[2].split(" · ")[0] for m in b.messages() if m[0] == "assistant"]
        self.assertEqual(notes, [chosen_by_model, forced, forced, chosen_by_model], "each reply keeps its own persona")

    def test_what_mira_remembers_and_forgetting_a_fact(self):
        b = self.browser()
        b.open()
        self.assertTrue(b.find("#memory").is_displayed())
        self.assertEqual(b.facts(), [])
        b.say_and_wait("I have a cat called Miso")
        b.until(lambda d: "has a cat called Miso" in b.facts(), "the planted fact in the memory panel")
        b.say_and_wait("my name is Ada")
        b.until(lambda d: "is called Ada" in b.facts(), "the second fact, after the next reply")
        b.forget("has a cat called Miso")
        b.until(lambda d: b.facts() == ["is called Ada"], "the forgotten fact to leave the panel")
        b.reload()
        self.assertEqual(b.facts(), ["is called Ada"], "forgotten for good, not only on the page")
        _, text, _ = b.say_and_wait("what do you know about my cat")
        self.assertNotIn("Miso", text, "Mira no longer recalls the forgotten fact")

    def test_a_refused_turn_says_why_and_keeps_the_message(self):
        b = self.browser()
        b.open(SERVERS.limited_url)
        b.say_and_wait("one turn is allowed")
        b.say("a second one is too many")
        b.until(lambda d: b.find("#problem").is_displayed(), "the problem line")
        problem = b.find("#problem-text").text
        self.assertRegex(problem, r"^Not sent: too many turns .*try again in \d+ s", "the server's message is shown")
        self.assertEqual(problem.count("try again"), 1, problem)
        self.assertTrue(b.find("#retry").is_displayed())
        self.assertEqual(b.find("#message").get_attribute("value"), "a second one is too many")
        self.assertEqual([m[0] for m in b.messages()], ["user", "assistant", "user"], "no reply to the refused message")
        self.assertEqual(len(b.finds("#log .unsent")), 1)
        self.assertFalse(b.find("#typing").is_displayed())

    def test_a_phone_sized_screen_fits_and_folds_the_panels(self):
        b = self.browser(width=375, height=740, phone=True)
        b.open()
        width = b.driver.execute_script("return window.innerWidth")
        self.assertEqual(width, 375, "the screen is phone-sized")
        b.say_and_wait("a long message " + "without-any-break-" * 12)
        overflow = b.driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        self.assertLessEqual(overflow, 0, "nothing is wider than the screen")
        self.assertFalse(b.find("#side").is_displayed(), "the panels are folded away")
        self.assertTrue(b.find("#message").is_displayed())
        b.find("#panels").click()
        b.until(lambda d: b.find("#side").is_displayed(), "the panels to unfold")
        self.assertEqual(b.find("#panels").get_attribute("aria-expanded"), "true")
        self.assertEqual(len(b.conversations()), 1)
        b.driver.save_screenshot(os.path.join(ARGS.shots, "phone.png"))  # to look at, not compared

    def test_new_conversation_and_switching_between_them(self):
        b = self.browser()
        b.open()
        b.say_and_wait("about the garden")
        b.find("#new").click()
        b.until(lambda d: b.messages() == [] and len(b.conversations()) == 2, "an empty new conversation, listed")
        b.say_and_wait("about the sea")
        self.assertEqual([m[1] for m in b.messages() if m[0] == "user"], ["about the sea"])
        b.until(lambda d: len(b.conversations()) == 2, "two conversations listed")
        # The older one is listed second (most recent first); open it.
        b.finds("#conversations .conversation")[1].click()
        b.until(lambda d: [m[1] for m in b.messages() if m[0] == "user"] == ["about the garden"], "the first conversation")
        b.say_and_wait("back to the garden")
        b.reload()
        b.until(lambda d: [m[1] for m in b.messages() if m[0] == "user"] == ["about the garden", "back to the garden"],
                "the conversation last used, after a reload")
        b.finds("#conversations .conversation")[1].click()
        b.until(lambda d: [m[1] for m in b.messages() if m[0] == "user"] == ["about the sea"],
                "the other conversation, untouched")

    def test_deleting_a_conversation_takes_it_and_its_facts_for_good(self):
        b = self.browser()
        b.open()
        b.say_and_wait("I have a dog called Biscuit")
        b.until(lambda d: "has a dog called Biscuit" in b.facts(), "the planted fact in the memory panel")
        b.find("#new").click()
        b.until(lambda d: b.messages() == [] and len(b.conversations()) == 2, "a second conversation")
        b.say_and_wait("about the weather")
        # Delete the first (listed second, most recent first); dismissing the question keeps it.
        b.finds("#conversations .delete")[1].click()
        b.driver.switch_to.alert.dismiss()
        self.assertEqual(len(b.conversations()), 2)
        b.finds("#conversations .delete")[1].click()
        b.driver.switch_to.alert.accept()
        b.until(lambda d: b.conversations() == ["about the weather"], "the deleted conversation to leave the list")
        b.until(lambda d: b.facts() == [], "its fact to leave the memory panel")
        self.assertEqual([m[1] for m in b.messages() if m[0] == "user"], ["about the weather"], "the open one stays")
        b.reload()
        self.assertEqual(b.conversations(), ["about the weather"], "deleted for good, not only on the page")
        # Deleting the open conversation empties the page.
        b.finds("#conversations .delete")[0].click()
        b.driver.switch_to.alert.accept()
        b.until(lambda d: b.conversations() == [] and b.messages() == [], "an empty page")

    def test_screenshot_of_a_conversation(self):
        b = self.browser(width=900, height=620)
        b.open()
        b.say_and_wait("rough day, my boss yelled at me")
        b.say_and_wait("I have a dog called Pepper, she cheers me up")
        b.driver.execute_script("document.activeElement.blur()")
        path = os.path.join(ARGS.shots, "screenshot.png")
        self.assertTrue(b.driver.save_screenshot(path))
        with open(path, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        print(f"\n    screenshot: {path}", file=sys.stderr)


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", required=True, help="the mira-serve binary")
    parser.add_argument("--fake", required=True, help="Tests/Support/fake_openai.py")
    parser.add_argument("--shots", required=True, help="the folder the screenshot goes to")
    ARGS, rest = parser.parse_known_args()
    program = unittest.main(argv=[sys.argv[0], *rest], exit=False, verbosity=2)
    result = program.result
    failed = len(result.failures) + len(result.errors)
    print(f"browser: {result.testsRun - failed - len(result.skipped)} passed, {failed} failed", file=sys.stderr)
    if failed or result.testsRun == 0:
        print("browser tests: FAILED (see above)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
