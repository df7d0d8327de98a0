// crawler/signal.hpp — waiting for a visit's state to change, on one single-threaded io_context.
//
// Everything that changes state calls notify(); every waiter re-checks its predicate then. Each wait
// has a deadline and a timer of its own: several tasks wait at once (sampling, wiring, the teardown),
// and re-arming one shared timer would cancel the others' waits, which would re-arm it in turn: a busy
// loop (measured: 2,000 wake-ups a second, a third of cjcrawl's CPU).
#pragma once

#include <chrono>
#include <set>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace crawler {

class Signal {
 public:
  explicit Signal(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}
  Signal(const Signal&) = delete;
  Signal& operator=(const Signal&) = delete;

  void notify() {
    for (auto* waiter : waiters_) waiter->cancel();
  }

  // Waits until pred() holds (true) or `until` passes (false).
  template <class Pred>
  boost::asio::awaitable<bool> wait_for(Pred pred, std::chrono::steady_clock::time_point until) {
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= until) co_return false;
      boost::asio::steady_timer timer(executor_, until);
      const Registered registered(waiters_, timer);  // (unregisters even if the frame is destroyed)
      co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    co_return true;
  }

 private:
  struct Registered {
    Registered(std::set<boost::asio::steady_timer*>& waiters, boost::asio::steady_timer& waiting)
        : set(waiters), timer(&waiting) {
      set.insert(timer);
    }
    ~Registered() { set.erase(timer); }
    Registered(const Registered&) = delete;
    Registered& operator=(const Registered&) = delete;
    std::set<boost::asio::steady_timer*>& set;
    boost::asio::steady_timer* timer;
  };

  boost::asio::any_io_executor executor_;
  std::set<boost::asio::steady_timer*> waiters_;
};

}  // namespace crawler
