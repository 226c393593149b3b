#pragma once
#include <QIcon>
#include <QString>

namespace Kiln::Ui::Icons {

// The freedesktop theme's icon called `name` when the desktop's theme has it; else Kiln's own SVG of the same
// name (resources/icons), drawn in the palette's text colour so it suits light and dark themes alike.
QIcon get(const QString& name);
// Registers what the studio bundles (these icons, the README for Help > Guide); once, before the first use.
void loadResources();
// Whether Kiln bundles an SVG for `name` (every toolbar icon does).
bool hasFallback(const QString& name);

} // namespace Kiln::Ui::Icons
