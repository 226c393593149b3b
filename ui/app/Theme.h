#pragma once
#include <QString>

namespace Kiln::Ui::Theme {

// The studio's colours: the system's palette (the default), or Kiln's own light or dark one (Fusion style).
// Charts paint from the palette, so they follow. The choice is kept in QSettings ("appearance/theme").
enum class Choice { System, Light, Dark };

void apply(Choice choice);
Choice current();
Choice saved();
void save(Choice choice);
QString name(Choice choice);

} // namespace Kiln::Ui::Theme
