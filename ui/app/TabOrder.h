#pragma once
#include <QtGlobal>

QT_BEGIN_NAMESPACE
class QWidget;
QT_END_NAMESPACE

namespace Kiln::Ui {

// Sets the Tab order of `root`'s controls to the order of its layouts (top to bottom, each row left to
// right), instead of the order the widgets happened to be created in. Call it at the end of a dialog's
// constructor.
void tabInLayoutOrder(QWidget* root);

} // namespace Kiln::Ui
