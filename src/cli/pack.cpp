#include <iostream>

#include "common.hpp"
#include "mlpack/manifest/spec.hpp"
#include "mlpack/store/pack.hpp"
#include "mlpack/util/log.hpp"

namespace mlpack::cli {

void register_pack(CLI::App& app, Context& ctx) {
  auto* cmd = add_command(
      app, "pack", "Pack a model, its preprocessing and metadata into a versioned artifact",
      "  mlpack pack examples/sklearn-iris                      # reads "
      "examples/sklearn-iris/mlpack.yaml\n"
      "  mlpack pack --model model.joblib --preprocessing preprocessing.yaml \\\n"
      "              --metrics metrics.json --set metadata.dataset.version=2024-12 -t iris:v3");
  struct Options {
    manifest::PackRequest request;
    std::string dir = ".";
    std::string spec_file;
    std::string tag;
    std::string model;
    std::string preprocessing;
    std::string metrics;
    std::string params;
    bool no_preprocessing = false;
    bool json = false;
    unsigned jobs = 0;
    bool allow_unsafe = false;
    SigningOptions signing;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("DIR", o->dir, "Folder holding the model and mlpack.yaml (default: .)");
  cmd->add_option("-f,--spec", o->spec_file, "Spec file (default: DIR/mlpack.yaml)")
      ->type_name("SPEC");
  cmd->add_option("-t,--tag", o->tag, "Name and version, overriding the spec")
      ->type_name("NAME:VERSION");
  cmd->add_option("--model", o->model, "Model file or folder")->type_name("PATH");
  cmd->add_option("--preprocessing", o->preprocessing, "Preprocessing spec file or folder")
      ->type_name("PATH");
  cmd->add_option("--file", o->request.files, "Extra file with a role (code, docs, data, ...)")
      ->type_name("PATH[:ROLE]");
  cmd->add_option("--metrics", o->metrics, "Metrics file (YAML or JSON)")->type_name("FILE");
  cmd->add_option("--params", o->params, "Params file (YAML or JSON)")->type_name("FILE");
  cmd->add_option("--set", o->request.sets, "Set a spec value (metrics.accuracy=0.97)")
      ->type_name("KEY=VALUE");
  cmd->add_flag("--no-preprocessing", o->no_preprocessing,
                "Packing without preprocessing is deliberate: do not warn");
  cmd->add_option("-j,--jobs", o->jobs, "Files hashed in parallel (default: one per core)");
  cmd->add_flag("--allow-unsafe", o->allow_unsafe,
                "Pack files the scan finds dangerous (they could run code when loaded)");
  add_signing_options(cmd, o->signing);
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([&ctx, o] {
    manifest::PackRequest req = o->request;
    req.dir = o->dir;
    if (!o->spec_file.empty()) req.spec_file = std::filesystem::path(o->spec_file);
    if (!o->tag.empty()) req.tag = o->tag;
    if (!o->model.empty()) req.model = o->model;
    if (!o->preprocessing.empty()) req.preprocessing = o->preprocessing;
    if (!o->metrics.empty()) req.metrics_file = o->metrics;
    if (!o->params.empty()) req.params_file = o->params;

    store::Repository repo = ctx.open_repository();
    manifest::Spec spec = manifest::load_spec(req);
    if (!spec.has_preprocessing && !o->no_preprocessing) {
      log::warn("packing " + spec.name + ":" + spec.version +
                " without preprocessing: the model will be served without the steps its inputs "
                "went through in training. Add --preprocessing PATH (or preprocessing: in "
                "mlpack.yaml), or --no-preprocessing if this is deliberate");
    }
    store::Signer signer = make_signer(o->signing);
    store::PackResult result =
        store::pack(repo, spec, signer, {.jobs = o->jobs, .allow_unsafe = o->allow_unsafe});
    const std::string label = spec.name + ":" + spec.version;
    if (o->json) {
      json::Value out = json::Value::object();
      out.set("name", spec.name);
      out.set("version", spec.version);
      out.set("digest", "sha256:" + result.digest);
      out.set("new", result.created);
      out.set("signed", repo.read_signature(result.digest, spec.name, spec.version).has_value());
      out.set("size", result.manifest.total_size());
      out.set("files", manifest::files_to_json(result.manifest.files));
      print_json(out);
    } else if (result.created) {
      std::cout << "packed " << label << " " << short_digest(result.digest) << " ("
                << count_of(result.manifest.files.size(), "file") << ", "
                << text::format_size(result.manifest.total_size()) << ")\n";
    } else {
      std::cout << label << " unchanged " << short_digest(result.digest)
                << " (same content already packed)\n";
    }
  });
}

}  // namespace mlpack::cli
