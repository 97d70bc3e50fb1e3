#include "core/engine/layer_range_runner.h"

#include "core/base/error.h"
#include "core/engine/engine_internal.h"

namespace zfvis {

using detail::batchDims;
using detail::plainMd;
using detail::reorderNow;

struct LayerRangeRunner::Slot {
  std::shared_ptr<const detail::Plan> plan;
  std::unique_ptr<detail::RunState> state;
};

LayerRangeRunner::LayerRangeRunner(std::shared_ptr<const CompiledNet> net, std::vector<size_t> keep,
                                   size_t firstLayer)
    : m_net(std::move(net)), m_keep(std::move(keep)), m_first(firstLayer) {}

LayerRangeRunner::~LayerRangeRunner() = default;

void LayerRangeRunner::write(int count, int layer, float* data) {
  Slot& s = slot(count);
  if (layer < 0) {
    s.state->setInput(data);
    return;
  }
  const int view = viewOf(s, size_t(layer));
  dnnl::stream stream(s.plan->engine);
  const Shape& shape = m_net->outputShapes()[size_t(layer)];
  dnnl::memory src(plainMd(batchDims(shape, count)), s.plan->engine, data);
  reorderNow(stream, src, s.state->views[size_t(view)]);
  stream.wait();
}

void LayerRangeRunner::run(int count, int first, int stop, const ProgressSink* cancel) {
  Slot& s = slot(count);
  setEngineThreads(m_net->options().threads);
  detail::executePlanRange(*s.plan, *s.state, first, stop, cancel);
}

void LayerRangeRunner::read(int count, size_t layer, Tensor& out) {
  Slot& s = slot(count);
  const Shape shape = m_net->outputShapes()[layer].withBatch(count);
  if (out.shape() != shape) out = Tensor(shape);
  dnnl::stream stream(s.plan->engine);
  dnnl::memory dst(plainMd(batchDims(m_net->outputShapes()[layer], count)), s.plan->engine,
                   out.data());
  reorderNow(stream, s.state->views[size_t(viewOf(s, layer))], dst);
  stream.wait();
}

LayerRangeRunner::Slot& LayerRangeRunner::slot(int count) {
  std::unique_ptr<Slot>& s = m_slots[count];
  if (!s) {
    s = std::make_unique<Slot>();
    s->plan = m_net->plan(count, true, m_keep, m_first);
    s->state = std::make_unique<detail::RunState>(*s->plan);
  }
  return *s;
}

int LayerRangeRunner::viewOf(const Slot& s, size_t layer) const {
  const int view = s.plan->layers[layer].out;
  if (view < 0)
    throw Error("internal: the plan of '" + m_net->def().name +
                "' does not keep the output of layer '" + m_net->def().layers[layer].name + "'");
  return view;
}

}  // namespace zfvis
