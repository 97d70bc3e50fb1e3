#include "ui/help_texts.h"

#include <QCoreApplication>

namespace zfvis::ui {

namespace {

QString tr(const char* text) {
  return QCoreApplication::translate("HelpTexts", text);
}

QString activations() {
  return tr(
      "<p><b>What it shows.</b> Every feature map of the selected layer for the input image: one "
      "tile per channel, the layer's output after the forward pass. Bright means a strong "
      "response. Zeiler &amp; Fergus look at a unit through the images that excite it most "
      "(fig. 2, the top 9 over a dataset); this view is the other way round: all units of one "
      "layer on one image.</p>"
      "<p><b>Normalisation.</b> <i>Per map</i> stretches each tile to its own min..max, so you see "
      "the shape of every response, even a weak one. <i>Per layer</i> uses one scale for the whole "
      "layer, so weak maps look dark and you see which channels respond at all. The header gives "
      "the layer's overall min and max.</p>"
      "<p><b>Reading it.</b> Hover a tile for its maximum and where it is, written (y row, x "
      "column) in the map's own cells; click a tile to select that channel: the Projection view "
      "then shows which pixels caused it, and the Input panel marks its receptive field. Maps that "
      "stay black on every image are units this image does not use (or dead units of an "
      "untrained net).</p>");
}

QString filters() {
  return tr(
      "<p><b>What it shows.</b> The learned weights of the convolution feeding the selected layer, "
      "one tile per filter (output channel). A first layer (3 input channels) is drawn in colour: "
      "what each filter looks for in the image, as in Zeiler &amp; Fergus fig. 6. Deeper layers "
      "show one tile per input channel, a chosen input channel or the mean over them.</p>"
      "<p><b>Normalisation.</b> <i>Per filter</i>: each filter stretched to its own min..max "
      "(shape, not strength). <i>Per layer</i>: one symmetric scale for the layer (zero is mid-"
      "grey), so weak filters look faint. <i>RMS</i>: one scale of &plusmn;3&times; the layer's "
      "RMS, with a bar under each tile for the filter's RMS (sqrt of its mean squared weight), a "
      "tick at 0.1, the radius to which Zeiler &amp; Fergus renormalised filters during training, "
      "and red bars for filters above it.</p>"
      "<p><b>Reading it.</b> Smooth oriented edges and colour blobs are the signature of a trained "
      "first layer; noise means untrained weights, a flat tile a <i>dead</i> filter (RMS below 0.1 "
      "&times; the layer's median filter RMS).</p>");
}

QString projection() {
  return tr(
      "<p><b>What it shows.</b> Which input pixels made the selected unit fire: its activation is "
      "sent back down the network to pixel space (Zeiler &amp; Fergus fig. 1, the deconvnet; "
      "fig. 2 shows such projections for the top 9 images of each unit). Left: the projection "
      "cropped to the unit's receptive field, next to the image patch it sees. Right: the same "
      "over the whole input. Below: the 9 channels of the layer with the strongest maxima, each "
      "from its own strongest position.</p>"
      "<p><b>Modes</b> differ only in how the signal g passes a ReLU on the way down (x is the "
      "ReLU's input in the forward pass):</p>"
      "<table border=1 cellspacing=0 cellpadding=3>"
      "<tr><th>mode</th><th>backward through ReLU</th><th>keeps</th></tr>"
      "<tr><td>Deconvnet</td><td>relu(g)</td><td>positive upstream signal only</td></tr>"
      "<tr><td>Saliency (gradient)</td><td>g &middot; [x &gt; 0]</td><td>where the unit was "
      "on in the forward pass</td></tr>"
      "<tr><td>Guided backprop</td><td>relu(g) &middot; [x &gt; 0]</td><td>both: positive "
      "signal where the unit was on</td></tr></table>"
      "<p>Max-pooling always goes back to the recorded switch (where the maximum was), "
      "convolutions through their transposed filters. <i>LRN gradient</i> passes LRN layers by "
      "their true gradient, <i>pass-through</i> unchanged (only networks with LRN offer it).</p>"
      "<p><b>Normalisation.</b> Zero is mid-grey; positive and negative values are scaled "
      "together by the largest magnitude, as in the paper's figures, so colour shows sign and "
      "contrast shows strength. Structure in the projection is what the unit responds to; the "
      "header gives the unit, its position (y, x) in the layer's map, its activation and its "
      "receptive field in input pixels.</p>");
}

QString compare() {
  return tr(
      "<p><b>What it shows.</b> Two first layers side by side at the same scale (the same value "
      "gives the same colour, and each weight the same number of pixels), as Zeiler &amp; Fergus "
      "compare AlexNet's 11&times;11 stride-4 filters with their 7&times;7 stride-2 ones (fig. 6), "
      "with statistics and a radial power spectrum plot.</p>"
      "<p><b>Statistics.</b> <i>RMS</i>: sqrt of a filter's mean squared weight. <i>Dead</i>: RMS "
      "below 0.1 &times; the layer's median filter RMS (or exactly 0). <i>Above 0.1</i>: filters "
      "over the RMS radius to which the paper renormalised during training.</p>"
      "<p><b>Spectrum bands.</b> Each filter's channels are zero-padded to 32&times;32 so both "
      "kernel sizes share one frequency grid, and the DFT power is summed over channels. The power "
      "is split by radial frequency as a fraction of Nyquist: <i>low</i> below 1/3, <i>mid</i> 1/3 "
      "to 2/3, <i>high</i> above 2/3. The shares are layer means over live filters. A layer with "
      "little mid-band power is missing middle frequencies, the gap the paper saw in AlexNet's "
      "first layer and closed with smaller, denser filters.</p>");
}

QString occlusion() {
  return tr(
      "<p><b>What it shows.</b> Zeiler &amp; Fergus fig. 7: a grey square (the mean colour) is "
      "slid "
      "over the image; for each placement the network is run again and the probability of the "
      "target class is recorded. The default square and step are the paper's 50 and 8 pixels on "
      "224, scaled to this model's input.</p>"
      "<p><b>Reading the heat map.</b> Each placement's value is painted on the cell at the "
      "square's centre, over the image. Dark (low) cells are where covering the image lowers the "
      "class's probability: the evidence the network uses. If the object itself is dark, the "
      "network looks at the object; if the background is, it uses context. The colour bar marks "
      "the unoccluded probability; the most damaging placement is outlined on the left.</p>"
      "<p><b>Label map.</b> The most probable class at each placement, one flat colour per class "
      "with a legend: where it changes, covering that part changes the decision. With "
      "<i>Selected feature map</i> the total activation of the selected channel is mapped "
      "instead: where covering the image switches that unit off (the paper's fig. 7, column "
      "b).</p><p>Pick the target by typing part of a class name.</p>");
}

QString train() {
  return tr(
      "<p><b>What it shows.</b> A small network trained from scratch in the background, as "
      "<tt>zfvis-cli train</tt> does, with the paper's recipe scaled down: SGD with momentum, "
      "dropout, weight decay and filter renormalisation to RMS 0.1.</p>"
      "<p><b>Reading it.</b> The loss and the training accuracy are drawn as lines against the "
      "step, the test accuracy as points after each evaluation. The first layer's filters are "
      "redrawn as they learn: noise turns into edges and blobs first, as in Zeiler &amp; Fergus "
      "fig. 4, whose lower layers converge within a few epochs while upper ones take much longer. "
      "Each checkpoint in the list can be opened as the window's model, or the whole run shown in "
      "the Evolution view.</p>");
}

QString evolution() {
  return tr(
      "<p><b>What it shows.</b> Zeiler &amp; Fergus fig. 4: how features form during training. "
      "For the checkpoint chosen on the slider: the first-layer filters; for each of the layer's "
      "first 8 units, its strongest activation over the images, projected back to pixels "
      "(deconvnet) beside the image patch; the whole layer on the selected unit's best image; "
      "and the loss and accuracy curves with the checkpoint marked.</p>"
      "<p><b>Reading it.</b> Move the slider: a unit whose projection stops changing has "
      "converged. Early layers settle within a few epochs; a unit whose best image jumps between "
      "checkpoints is still being reshaped. The projections use the same rules as the "
      "Projection view (zero is mid-grey, scaled by the largest magnitude).</p>");
}

QString units() {
  return tr(
      "<p><b>What it shows.</b> Zeiler &amp; Fergus fig. 2 over a whole image collection: for "
      "every unit (channel) of a scanned layer, the images of the collection that excite it most. "
      "A unit's response to an image is the largest value of its map, at the first position "
      "holding it; the scan database (<tt>zfvis-cli scan</tt>, or Scan Folder…) keeps each unit's "
      "top 9 with those positions.</p>"
      "<p><b>Reading it.</b> The mosaic shows each unit's top image patches, each cut to the part "
      "of the image the unit sees (its receptive field) at the recorded position: patches that "
      "share an edge, a colour or a texture say what the unit detects. A unit whose patches are "
      "black never fired on the collection (a dead unit, or a feature the images lack). Click a "
      "unit for its top 9 projected back to pixels (deconvnet, guided backpropagation or "
      "saliency, as in the Projection view) beside the patches: the projection shows which "
      "pixels of the patch made the unit fire. Double-click a patch to open its image in the "
      "other views at that unit and position.</p>");
}

QString graph() {
  return tr(
      "<p><b>What it shows.</b> The network as a graph, the input at the top: one box per layer "
      "(name, operator, output shape) and one edge per layer input. Layers sit one row below "
      "their deepest input, so branches, such as the two towers of the original AlexNet (its "
      "grouped convolutions, split across two GPUs in 2012) or Inception and Fire modules, stand "
      "side by side. Zeiler &amp; Fergus fig. 3 draws their 8-layer network the same way, layer by "
      "layer.</p>"
      "<p><b>Reading it.</b> Colours mark the operator (convolutions blue, pooling green, dense "
      "layers pink, Concat and Add orange). Click a box to select that layer in every view; the "
      "Properties panel then shows its kernel, stride, padding, receptive field and weight "
      "statistics.</p>");
}

}  // namespace

QString helpText(const QString& viewId) {
  if (viewId == QLatin1String("activations")) return activations();
  if (viewId == QLatin1String("filters")) return filters();
  if (viewId == QLatin1String("projection")) return projection();
  if (viewId == QLatin1String("compare")) return compare();
  if (viewId == QLatin1String("occlusion")) return occlusion();
  if (viewId == QLatin1String("train")) return train();
  if (viewId == QLatin1String("evolution")) return evolution();
  if (viewId == QLatin1String("units")) return units();
  if (viewId == QLatin1String("graph")) return graph();
  return {};
}

QStringList helpTopics() {
  return {QStringLiteral("activations"), QStringLiteral("filters"),   QStringLiteral("projection"),
          QStringLiteral("compare"),     QStringLiteral("occlusion"), QStringLiteral("train"),
          QStringLiteral("evolution"),   QStringLiteral("units"),     QStringLiteral("graph")};
}

}  // namespace zfvis::ui
