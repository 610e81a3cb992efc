"""The chat page in a real headless Chromium: send a message, watch the reply stream in, open the
inner contemplation, and see crisis resources after a crisis message. Screenshots are kept in the
test's tmp dir."""

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from ..browser import browser  # noqa: F401  (the fixture)
from .server import running_server
from .test_server import REPLY, runtime  # noqa: F401  (the scripted model fixture)


def send(driver, text):
    box = driver.find_element(By.ID, "input")
    box.clear()
    box.send_keys(text)
    driver.find_element(By.ID, "send").click()
    count = len(driver.find_elements(By.CSS_SELECTOR, ".assistant"))
    WebDriverWait(driver, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".assistant[data-done]")) == count)
    return driver.find_elements(By.CSS_SELECTOR, ".assistant")[-1]


def test_chat_page_streams_shows_thoughts_on_demand_and_crisis_resources(runtime, browser, tmp_path):  # noqa: F811
    with running_server(runtime, locale="UK") as base:
        browser.get(base + "/")
        assert "not a substitute for" in browser.find_element(By.ID, "disclaimer").text
        reply = send(browser, "I moved to Leeds and I know nobody.")
        assert reply.get_attribute("data-done") == "true"
        assert reply.find_element(By.CSS_SELECTOR, ".body").text == REPLY
        thoughts = reply.find_element(By.CSS_SELECTOR, "details.thoughts")
        assert thoughts.get_attribute("open") is None  # hidden by default
        assert not thoughts.find_element(By.CSS_SELECTOR, "pre").is_displayed()
        thoughts.find_element(By.CSS_SELECTOR, "summary").click()
        assert "loneliness" in thoughts.find_element(By.CSS_SELECTOR, "pre").text
        assert not reply.find_elements(By.CSS_SELECTOR, ".crisis")
        browser.save_screenshot(str(tmp_path / "chat.png"))
        crisis = send(browser, "I want to end my life tonight")
        box = crisis.find_element(By.CSS_SELECTOR, ".crisis")
        assert "Samaritans" in box.text and "116 123" in box.text
        assert len(browser.find_elements(By.CSS_SELECTOR, ".user")) == 2
        browser.save_screenshot(str(tmp_path / "crisis.png"))
    assert (tmp_path / "chat.png").stat().st_size > 1000 and (tmp_path / "crisis.png").stat().st_size > 1000
