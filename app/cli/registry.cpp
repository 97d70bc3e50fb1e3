// The table of zfvis-cli subcommands (help order).
#include "app/cli/commands.h"

namespace zfvis::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"models", "list the built-in models", runModels},
      {"summary", "--model M", runSummary},
      {"layers", "--model M [--json]", runLayers},
      {"predict", "--model M --image I [--top K] [--json] [--npy OUT] [--labels FILE]", runPredict},
      {"activations",
       "--model M --image I --layer L [--npy OUT] [--png OUT] [--colormap viridis|gray] "
       "[--normalize map|layer] [--mark-max]",
       runActivations},
      {"filters",
       "--model M --layer L [--npy OUT] [--png OUT] [--normalize filter|layer|rms] "
       "[--channel I|--mean|--per-input|--rgb] [--order bgr|rgb] [--columns N] [--scale S]; "
       "M may be an O x I x kH x kW .npy filter bank (then no --layer; --stride S)",
       runFilters},
      {"compare",
       "--model A --model B [--png OUT] [--spectrum-png OUT] [--json OUT] "
       "[--normalize layer|filter|rms] [--scale S]; A, B: models (first Conv layer) or .npy "
       "filter banks [--stride S] [--order bgr|rgb]",
       runCompare},
      {"deconv",
       "--model M --image I --layer L [--channel C] [--position Y,X] "
       "[--mode deconvnet|guided|saliency] [--top K] [--lrn gradient|pass] [--no-crop] "
       "[--npy OUT] [--png OUT]",
       runDeconv},
      {"occlusion",
       "--model M --image I [--patch P] [--stride S] [--fill V] [--class K] "
       "[--layer L [--channel C]] [--batch N] [--npy OUT] [--label-map OUT] [--feature-npy OUT] "
       "[--png OUT (with --layer also OUT-feature.png)] [--label-png OUT] [--feature-png OUT] "
       "[--whole-copies] [--time [--repeat K]] [--labels FILE]; default patch and stride: 50 "
       "and 8 scaled from 224 to the input width",
       runOcclusion},
      {"export",
       "--model M --image I --out DIR [--force] [--top K] [--mode deconvnet|guided|saliency] "
       "[--projections features|all|none] [--predictions K] [--db SCAN_DB [--atlas-units N] "
       "[--scan-images DIR]] [--time] [--labels FILE]",
       runExport},
      {"bench",
       "--model M [--batch N] [--iters K] [--warmup W] [--all-layers] [--deconv LAYER [--top K] "
       "[--mode M]]",
       runBench},
      {"fetch",
       "ID | --list [--json] [--manifest F] [--base-url U] [--cache-dir D] [--min-rate BYTES/S] "
       "[--rate-window S] [--timeout S]",
       runFetch},
      {"train",
       "--model ARCH --data fashion-mnist[:DIR]|cifar10:DIR|folder:DIR --epochs E --out DIR "
       "[--batch 64] [--lr 0.01] [--lr-decay 1] [--momentum 0.9] [--weight-decay 5e-4] "
       "[--renorm-rms 0.1] "
       "[--dropout 0.5] [--checkpoints 5] [--log-every 20] [--seed 1] [--threads 2] | "
       "--resume DIR [--threads T]",
       runTrain},
      {"evolution",
       "--checkpoints RUN_DIR|MODEL [--checkpoints ...] --layer L --images DIR|LIST|IMAGE "
       "[--units A-B[,C...]] [--mode deconvnet|guided|saliency] [--batch 32] [--png OUT] "
       "[--with-patch] [--no-filters]; RUN_DIR may be alex-small or zf-small (shipped runs)",
       runEvolution},
      {"scan",
       "--model M --images DIR|LIST --db OUT.sqlite [--layers L,L,...|convs] [--top 9] "
       "[--batch 32] [--preprocess P] [--shard I/N] [--max-pixels N]; rerun to resume",
       runScan},
      {"scan-show", "--db D --layer L [--units A-B] [--json]", runScanShow},
      {"scan-merge", "--out OUT.sqlite --db SHARD.sqlite [--db SHARD.sqlite ...]", runScanMerge},
      {"atlas",
       "--db D --model M --layer L --png OUT.png|--out DIR [--units A-B] "
       "[--mode deconvnet|guided|saliency] [--top 9] [--images DIR] [--per-row 4] [--no-patches]",
       runAtlas},
  };
  return table;
}

}  // namespace zfvis::cli
