// tests/support/stores.hpp — a fresh, empty store of either backend, for the store's contract tests:
// "sqlite" is a file in a temporary folder, "postgresql" a new database in the test process's
// throwaway PostgreSQL cluster (pg_cluster.hpp). The same test body runs on both (Catch2 GENERATE),
// so the two backends keep one meaning.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "db/store.hpp"
#include "tests/support/subprocess.hpp"

namespace testsupport {

class FreshStore {
 public:
  explicit FreshStore(std::string_view backend);

  db::Store& operator*() const { return *store_; }
  db::Store* operator->() const { return store_.get(); }
  // What --db takes for it (for PostgreSQL: the URI, password included).
  const std::string& location() const { return location_; }
  bool postgres() const { return postgres_; }
  // Another handle on the same store (a second process, as far as the store can tell).
  std::unique_ptr<db::Store> open_again(db::OpenMode mode = db::OpenMode::write) const;
  // Closes this handle (to reopen, or to let a test change the database underneath).
  void close() { store_.reset(); }

 private:
  TempDir directory_;
  bool postgres_ = false;
  std::string location_;
  std::unique_ptr<db::Store> store_;
};

}  // namespace testsupport
