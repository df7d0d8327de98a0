// util/worker.hpp — work that may block, kept off the event loop.
//
// cjcrawl runs every slot's DevTools traffic and CPU sampling on one single-threaded io_context, so
// nothing that can block may run there: a database commit waits up to the busy timeout on a file
// another process holds, and a script scan reads megabytes. Such work is handed to a WorkerThread (a
// thread of its own, jobs in FIFO order) and awaited: the coroutine that awaits resumes on its own
// executor with the job's result, or with the exception the job threw rethrown, and the loop goes on
// meanwhile. The feed server renders feeds this way; a crawl commits sites and scans scripts this way.
//
// Rules:
//   * A job must not touch what the loop's thread touches, unless it is immutable (a Detector) or
//     the job owns it (a moved ScriptRecord) or the loop never uses it while jobs run (a Store that
//     only the worker uses).
//   * Pass a named closure: g++ 12 corrupts closures built inside a co_await expression when they
//     hold aggregates with default member initialisers (seen as a bad free).
//   * Destroy (or join()) the WorkerThread before the io_context its jobs resume on: declare it after
//     the io_context. A job in flight keeps its io_context's run() from returning (a work guard), so
//     only io_context::stop() can leave one behind, and join() then waits for it.
#pragma once

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace util {

class WorkerThread {
 public:
  WorkerThread() = default;
  ~WorkerThread() { join(); }
  WorkerThread(const WorkerThread&) = delete;
  WorkerThread& operator=(const WorkerThread&) = delete;

  // Runs `job()` on the worker thread and resumes the caller with its result.
  template <class Job>
  boost::asio::awaitable<std::invoke_result_t<Job&>> run(Job job) {
    using Value = std::invoke_result_t<Job&>;
    if constexpr (std::is_void_v<Value>) {
      co_await initiate(std::move(job));
    } else {
      std::optional<Value> result = co_await initiate(std::move(job));
      co_return std::move(*result);  // set: a job that threw rethrew in the co_await
    }
  }

  // Waits for every queued job, then ends the thread. Idempotent.
  void join() { pool_.join(); }

 private:
  // The job's result boxed (a Value need not be default-constructible), through one completion
  // handler: no coroutine frame owns the job while it runs on the other thread.
  template <class Job>
  auto initiate(Job job) {
    using Value = std::invoke_result_t<Job&>;
    using Box = std::optional<std::conditional_t<std::is_void_v<Value>, bool, Value>>;
    return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>, void(std::exception_ptr, Box)>(
        [this](auto handler, Job work) {
          auto resume_on = boost::asio::get_associated_executor(handler);
          auto keep_running = boost::asio::make_work_guard(resume_on);
          boost::asio::post(pool_, [handler = std::move(handler), work = std::move(work), resume_on,
                                    keep_running = std::move(keep_running)]() mutable {
            std::exception_ptr failure;
            Box result;
            try {
              if constexpr (std::is_void_v<Value>) {
                work();
                result.emplace(true);
              } else {
                result.emplace(work());
              }
            } catch (...) {
              failure = std::current_exception();
            }
            boost::asio::post(resume_on, [handler = std::move(handler), failure, result = std::move(result),
                                          keep_running = std::move(keep_running)]() mutable {
              std::move(handler)(failure, std::move(result));
            });
          });
        },
        boost::asio::use_awaitable, std::move(job));
  }

  boost::asio::thread_pool pool_{1};
};

}  // namespace util
