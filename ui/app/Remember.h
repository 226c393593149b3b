#pragma once
#include <QString>

QT_BEGIN_NAMESPACE
class QSplitter;
QT_END_NAMESPACE

namespace Kiln::Ui::Remember {

// Puts the splitter where the user left it last time (settings key "splitters/<key>") and remembers every
// move from now on. Call it once the splitter has its widgets and default sizes.
void splitter(QSplitter* splitter, const QString& key);

} // namespace Kiln::Ui::Remember
