// tests/support/stores.cpp — fresh stores of either backend (see stores.hpp).
#include "tests/support/stores.hpp"

#include <stdexcept>

#include "tests/support/pg_cluster.hpp"

namespace testsupport {

FreshStore::FreshStore(std::string_view backend) {
  if (backend == "postgresql") {
    postgres_ = true;
    auto& cluster = PgCluster::shared();
    location_ = cluster.uri(cluster.create_database());
  } else if (backend == "sqlite") {
    location_ = (directory_.path() / "cjcrawl.db").string();
  } else {
    throw std::invalid_argument("no store backend named " + std::string(backend));
  }
  store_ = open_again();
}

std::unique_ptr<db::Store> FreshStore::open_again(db::OpenMode mode) const {
  auto opened = db::open_store(location_, mode);
  if (!opened) throw std::runtime_error("cannot open the test store: " + opened.error().describe());
  return std::move(opened).value();
}

}  // namespace testsupport
