#include "Remember.h"

#include <QSettings>
#include <QSplitter>

namespace Kiln::Ui::Remember {

void splitter(QSplitter* splitter, const QString& key) {
    const auto settingsKey = QStringLiteral("splitters/") + key;
    splitter->restoreState(QSettings().value(settingsKey).toByteArray());
    QObject::connect(splitter, &QSplitter::splitterMoved, splitter,
                     [splitter, settingsKey] { QSettings().setValue(settingsKey, splitter->saveState()); });
}

} // namespace Kiln::Ui::Remember
