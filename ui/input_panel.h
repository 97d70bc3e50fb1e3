// The input panel: the image as the network sees it (after resize and centre crop, or the .npy
// tensor turned back into an image), the receptive field of the selected unit (the chosen
// position, else the channel's strongest) outlined on it, and the preprocessing preset.
#pragma once

#include <vector>

#include <QWidget>

#include "core/model/receptive_field.h"

class QComboBox;
class QLabel;

namespace zfvis::ui {

class AppState;
class Controller;
class ImageView;

class InputPanel : public QWidget {
  Q_OBJECT
 public:
  /// Shows the input of `state`; preset changes go through `controller`.
  InputPanel(AppState* state, Controller* controller, QWidget* parent = nullptr);
  /// The image view (tests read what it shows).
  ImageView* imageView() const { return m_view; }
  /// The preset combo box.
  QComboBox* presetBox() const { return m_preset; }
  QSize sizeHint() const override { return {340, 430}; }
  /// The outlined receptive field in input pixels (empty when none is shown).
  QRect fieldShown() const { return m_field; }

 private:
  void update();
  void updatePresetBox();
  void updateField();

  AppState* m_state;
  Controller* m_controller;
  ImageView* m_view;
  QComboBox* m_preset;
  QLabel* m_info;
  std::vector<ReceptiveField> m_fields;  // per layer of the open model
  QRect m_field;
};

}  // namespace zfvis::ui
