#pragma once
#include <QColor>
#include <QIcon>
#include <QString>

namespace Kiln::Ui::StatusIcons {

// A run status's colour (also used for the status text on the run page) and a round icon in it.
QColor color(const QString& status);
QIcon forStatus(const QString& status);
QIcon experiment();

} // namespace Kiln::Ui::StatusIcons
