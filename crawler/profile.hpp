// crawler/profile.hpp — the browser a page sees during a visit: by default an ordinary desktop
// Chrome on Linux, not headless automation. Miners size their thread pools from what they see and
// some stay idle for "HeadlessChrome" or navigator.webdriver, so an honest measurement needs the
// browser to look like a visitor's.
//
// What changes (measured with tests/fixtures/sites/profile.html on Chromium 156):
//   user agent   "... HeadlessChrome/156.0.0.0 ..." → "... Chrome/156.0.0.0 ..." (--user-agent; the
//                 reduced form real Chrome sends, in pages and workers alike)
//   webdriver    true → false (--disable-blink-features=AutomationControlled)
//   screen       800×600 → 1920×1080 (--screen-info, --window-size)
// What stays: navigator.hardwareConcurrency is the machine's real core count (a miner then starts as
// many threads as the machine can run, as it would for a real visitor on this machine); languages
// en-US; the five built-in PDF plugins. navigator.userAgentData exists only in secure contexts.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace crawler {

// "156" from `chrome --version` ("Chromium 156.0.8078.108"), or nullopt if it cannot be read.
std::optional<std::string> chrome_major_version(const std::filesystem::path& chrome);

// The Chrome flags of the desktop profile. Without a version, the user agent is left alone.
std::vector<std::string> desktop_profile_args(const std::optional<std::string>& major_version);

}  // namespace crawler
