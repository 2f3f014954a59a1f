#include <iostream>

#include "common.hpp"
#include "mlpack/remote/config.hpp"
#include "mlpack/util/log.hpp"

namespace mlpack::cli {
namespace {

json::Value remote_to_json(const remote::Remote& r) {
  json::Value v = json::Value::object();
  v.set("name", r.name);
  v.set("url", r.url.text);
  v.set("scheme", r.url.scheme);
  v.set("endpoint", r.endpoint.empty() ? json::Value() : json::Value(r.endpoint));
  v.set("region", r.region.empty() ? json::Value() : json::Value(r.region));
  v.set("path_style", r.path_style);
  v.set("ca_file", r.ca_file.empty() ? json::Value() : json::Value(r.ca_file));
  return v;
}

}  // namespace

void register_remote(CLI::App& app, Context& ctx) {
  auto* remote_cmd =
      add_command(app, "remote", "Manage the remotes artifacts are pushed to",
                  "  mlpack remote add origin /srv/models\n"
                  "  mlpack remote add cloud s3://ml-artifacts/team --region eu-west-1");
  remote_cmd->require_subcommand(1);

  {
    auto* cmd =
        add_command(*remote_cmd, "add", "Add a remote (URLs are checked, never credentials)",
                    "  mlpack remote add origin file:///srv/models\n"
                    "  mlpack remote add minio s3://models --endpoint http://127.0.0.1:9000 "
                    "--path-style");
    struct Options {
      std::string name, url, endpoint, region, ca_file;
      bool path_style = false;
    };
    auto o = std::make_shared<Options>();
    cmd->add_option("NAME", o->name, "The remote's name")->required();
    cmd->add_option("URL", o->url,
                    "file:///path or a path, http(s)://host/path, s3://bucket/prefix, "
                    "gs://bucket/prefix")
        ->required();
    cmd->add_option("--endpoint", o->endpoint, "s3/gs: another API host")->type_name("URL");
    cmd->add_option("--region", o->region, "s3: the bucket's region");
    cmd->add_flag("--path-style", o->path_style, "s3: path-style addressing");
    cmd->add_option("--ca-file", o->ca_file, "https: trust the CA certificates in this PEM file")
        ->type_name("FILE");
    cmd->callback([&ctx, o] {
      store::Repository repo = ctx.open_repository();
      remote::RemoteConfig config(repo);
      config.add({o->name, remote::parse_remote_url(o->url), o->endpoint, o->region, o->path_style,
                  o->ca_file.empty()
                      ? std::string()
                      : std::filesystem::absolute(o->ca_file).lexically_normal().string()});
      config.save();
      std::cout << "added remote " << o->name << " " << config.find(o->name)->url.text << '\n';
    });
  }
  {
    auto* cmd = add_command(*remote_cmd, "set", "Change one setting of a remote",
                            "  mlpack remote set origin url /mnt/models\n"
                            "  mlpack remote set cloud region us-east-1");
    struct Options {
      std::string name, key, value;
    };
    auto o = std::make_shared<Options>();
    cmd->add_option("NAME", o->name, "The remote")->required();
    cmd->add_option("KEY", o->key, "url, endpoint, region, path-style or ca-file")->required();
    cmd->add_option("VALUE", o->value, "The new value")->required();
    cmd->callback([&ctx, o] {
      store::Repository repo = ctx.open_repository();
      remote::RemoteConfig config(repo);
      config.set(o->name, o->key, o->value);
      config.save();
      std::cout << "remote " << o->name << ": " << o->key << " set\n";
    });
  }
  {
    auto* cmd = add_command(*remote_cmd, "remove", "Forget a remote (nothing on it is deleted)",
                            "  mlpack remote remove old-origin");
    auto name = std::make_shared<std::string>();
    cmd->add_option("NAME", *name, "The remote")->required();
    cmd->callback([&ctx, name] {
      store::Repository repo = ctx.open_repository();
      remote::RemoteConfig config(repo);
      config.remove(*name);
      config.save();
      std::cout << "removed remote " << *name << '\n';
    });
  }
  {
    auto* cmd = add_command(*remote_cmd, "list", "List the remotes", "  mlpack remote list --json");
    auto json = std::make_shared<bool>(false);
    cmd->add_flag("--json", *json, "Print the result as JSON");
    cmd->callback([&ctx, json] {
      store::Repository repo = ctx.open_repository();
      remote::RemoteConfig config(repo);
      if (*json) {
        json::Value list = json::Value::array();
        for (const auto& r : config.remotes()) list.push(remote_to_json(r));
        json::Value out = json::Value::object();
        out.set("remotes", std::move(list));
        print_json(out);
        return;
      }
      Table table({"NAME", "URL", "OPTIONS"});
      for (const auto& r : config.remotes()) {
        std::string options;
        if (!r.endpoint.empty()) options += "endpoint=" + r.endpoint + " ";
        if (!r.region.empty()) options += "region=" + r.region + " ";
        if (r.path_style) options += "path-style ";
        if (!r.ca_file.empty()) options += "ca-file=" + r.ca_file + " ";
        if (!options.empty()) options.pop_back();
        table.add({r.name, r.url.text, options});
      }
      if (table.empty()) {
        log::note("no remotes yet: mlpack remote add origin URL");
      } else {
        table.print();
      }
    });
  }
}

}  // namespace mlpack::cli
