"""The web chat in a real headless Chromium, against the real sandbox (`make run`): a
person can use the bot from the page as the admin and as a guest, with the command
menu, buttons (toast and edit), photos, and the world panel's failure buttons."""

from __future__ import annotations

from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from daemon.sandbox import SANDBOX_GUEST
from tests.support.browser import browser  # noqa: F401  # the fixture
from tests.support.processes import SandboxProcess

WAIT_SECONDS = 20


def wait(driver: webdriver.Chrome, what: str, condition):  # type: ignore[no-untyped-def]
    # A bubble is replaced when its message is edited: a stale reference just means "look
    # again".
    return WebDriverWait(
        driver,
        WAIT_SECONDS,
        poll_frequency=0.1,
        ignored_exceptions=[StaleElementReferenceException],
    ).until(lambda d: condition(d), message=f"waiting for {what}")


def bot_bubbles(driver: webdriver.Chrome) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, '#messages .msg[data-from="bot"]')


def say(driver: webdriver.Chrome, text: str) -> WebElement:
    """Type `text` and send it; the bot's next bubble (after those already shown)."""
    before = len(bot_bubbles(driver))
    field = driver.find_element(By.ID, "text")
    field.send_keys(text)
    driver.find_element(By.ID, "send").click()
    return wait(
        driver,
        f"the bot's answer to {text!r}",
        lambda d: len(bot_bubbles(d)) > before and bot_bubbles(d)[before],
    )


def found(css: str):  # type: ignore[no-untyped-def]
    """A wait condition: the elements matching `css`, when there are any."""
    return lambda d: d.find_elements(By.CSS_SELECTOR, css)


def text_of(bubble: WebElement) -> str:
    return bubble.find_element(By.CSS_SELECTOR, ".text").text


def test_a_person_uses_the_bot_from_the_web_chat(
    tmp_path: Path,
    browser: webdriver.Chrome,  # noqa: F811
) -> None:
    with SandboxProcess(tmp_path) as sandbox:
        browser.get(sandbox.url + "/")
        wait(
            browser,
            "the page to find the bot",
            lambda d: d.find_element(By.ID, "bot-name").text == "@emu123456_bot",
        )
        assert Select(browser.find_element(By.ID, "user-select")).first_selected_option.text == (
            "Operator (admin)"
        )

        # /start and /help as the admin.
        assert text_of(say(browser, "/start")).startswith("Hello Operator (admin)!")
        assert "/broadcast" in text_of(say(browser, "/help"))

        # The command menu is the admin's (setMyCommands with the admin's chat scope);
        # choosing a command sends it.
        browser.find_element(By.ID, "menu-button").click()
        items = wait(browser, "the command menu", found("#command-menu .command"))
        offered = [item.get_attribute("data-command") for item in items]
        assert {"start", "help", "broadcast", "status"} <= set(offered)
        before = len(bot_bubbles(browser))
        next(i for i in items if i.get_attribute("data-command") == "whoami").click()
        answer = wait(
            browser,
            "the /whoami answer",
            lambda d: len(bot_bubbles(d)) > before and bot_bubbles(d)[before],
        )
        assert "admin" in text_of(answer)

        # A button: the toast shows the callback answer, and the message is edited.
        say(browser, "/subscribe")
        question = say(browser, "/broadcast Markets open")
        assert text_of(question).startswith("Broadcast #1 to 1 subscribers?")
        cancel = question.find_element(By.XPATH, './/button[text()="Cancel"]')
        message_id = question.get_attribute("data-message-id")
        cancel.click()
        toast = wait(
            browser,
            "the toast",
            lambda d: (
                d.find_element(By.ID, "toast").is_displayed() and d.find_element(By.ID, "toast")
            ),
        )
        assert toast.text == "Cancelled"
        same = f'.msg[data-message-id="{message_id}"]'
        wait(
            browser,
            "the edited text",
            lambda d: "cancelled" in text_of(d.find_element(By.CSS_SELECTOR, same)),
        )
        edited = browser.find_element(By.CSS_SELECTOR, same)
        assert text_of(edited) == "Broadcast #1 cancelled."
        assert edited.find_elements(By.CSS_SELECTOR, ".keyboard") == []
        assert edited.find_element(By.CSS_SELECTOR, ".meta").text.startswith("edited ")

        # A photo: the P&L chart, served by the emulator and decoded by the browser.
        before = len(bot_bubbles(browser))
        browser.find_element(By.ID, "text").send_keys("/pnl chart")
        browser.find_element(By.ID, "send").click()
        image = wait(browser, "the chart", found(".msg img.photo"))[0]
        loaded = "return arguments[0].complete && arguments[0].naturalWidth"
        wait(browser, "the chart to load", lambda d: d.execute_script(loaded, image))
        assert browser.execute_script("return arguments[0].naturalWidth", image) == 800
        assert len(bot_bubbles(browser)) > before
        # A document: the journal as CSV, with a download link under its name.
        say(browser, "/ledger csv")
        link = wait(browser, "the CSV document", found(".msg a.document"))[0]
        assert link.get_attribute("download") == "journal.csv"
        assert link.get_attribute("href").endswith("?download=1")
        browser.save_screenshot(str(tmp_path / "webchat-admin.png"))

        # The world panel: a foreign poller makes the emulator answer 409s, counted there.
        browser.find_element(By.ID, "play-foreign-poller").click()
        wait(
            browser,
            "409s in the world panel",
            lambda d: int(d.find_element(By.ID, "world-409").text or 0) > 0,
        )
        assert browser.find_element(By.ID, "world-foreign").text == "polling"
        browser.find_element(By.ID, "play-clear").click()
        wait(
            browser,
            "the foreign poller to stop",
            lambda d: d.find_element(By.ID, "world-foreign").text == "off",
        )

        # The guest: a different menu, and an admin command refused.
        Select(browser.find_element(By.ID, "user-select")).select_by_value(str(SANDBOX_GUEST))
        assert bot_bubbles(browser) == []  # the guest's own chat is empty
        assert text_of(say(browser, "/broadcast hi")) == "This command is for admins only."
        browser.find_element(By.ID, "menu-button").click()
        items = wait(browser, "the guest's menu", found("#command-menu .command"))
        offered = [item.get_attribute("data-command") for item in items]
        assert "start" in offered
        assert "broadcast" not in offered
        browser.find_element(By.ID, "menu-button").click()  # closed again

        # The group: the guest asks there, the bot answers there.
        Select(browser.find_element(By.ID, "chat-select")).select_by_visible_text("Trading group")
        assert bot_bubbles(browser) == []
        assert text_of(say(browser, "/price BTC/USDT")).startswith("BTC/USDT")
        browser.save_screenshot(str(tmp_path / "webchat-guest.png"))
    assert (tmp_path / "webchat-admin.png").read_bytes().startswith(b"\x89PNG")
