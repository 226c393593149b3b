#include "CommandPalette.h"

#include "util/Fuzzy.h"

#include <QCoreApplication>
#include <QKeyEvent>
#include <QLineEdit>
#include <QListWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace Kiln::Ui {

CommandPalette::CommandPalette(QWidget* parent)
    : QDialog(parent, Qt::Popup | Qt::FramelessWindowHint)
    , m_input(new QLineEdit(this))
    , m_list(new QListWidget(this)) {
    setObjectName(QStringLiteral("commandPalette"));
    m_input->setObjectName(QStringLiteral("paletteInput"));
    m_list->setObjectName(QStringLiteral("paletteList"));
    m_input->setPlaceholderText(
        tr("Go to a run, experiment, dataset, environment, compute target, model or action…"));
    m_list->setUniformItemSizes(true);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(m_input);
    layout->addWidget(m_list);
    resize(640, 380);
    m_input->installEventFilter(this);
    connect(m_input, &QLineEdit::textChanged, this, &CommandPalette::refilter);
    connect(m_input, &QLineEdit::returnPressed, this, &CommandPalette::activate);
    connect(m_list, &QListWidget::itemActivated, this, &CommandPalette::activate);
}

CommandPalette::~CommandPalette() = default;

void CommandPalette::addEntries(std::vector<Entry> entries) {
    for (auto& e : entries)
        m_entries.push_back(std::move(e));
    refilter();
}

void CommandPalette::refilter() {
    const auto pattern = m_input->text().trimmed().toStdString();
    std::vector<std::pair<int, std::size_t>> ranked;
    for (std::size_t i = 0; i < m_entries.size(); ++i) {
        const auto& e = m_entries[i];
        const int score =
            std::max(Util::fuzzyScore(pattern, e.label.toStdString()),
                     Util::fuzzyScore(pattern, (e.kind + QLatin1Char(' ') + e.label).toStdString()) - 20);
        if (score >= 0)
            ranked.emplace_back(score, i);
    }
    std::stable_sort(ranked.begin(), ranked.end(), [](auto& a, auto& b) { return a.first > b.first; });
    m_list->clear();
    for (std::size_t k = 0; k < ranked.size() && k < 200; ++k) {
        const auto& e = m_entries[ranked[k].second];
        auto* item = new QListWidgetItem(
            QStringLiteral("%1    %2%3")
                .arg(e.label, e.kind, e.detail.isEmpty() ? QString() : QStringLiteral(" · ") + e.detail),
            m_list);
        item->setData(Qt::UserRole, static_cast<qulonglong>(ranked[k].second));
    }
    if (m_list->count())
        m_list->setCurrentRow(0);
}

void CommandPalette::activate() {
    auto* item = m_list->currentItem();
    if (!item)
        return;
    const auto go = m_entries[static_cast<std::size_t>(item->data(Qt::UserRole).toULongLong())].go;
    accept();
    if (go)
        go();
}

bool CommandPalette::eventFilter(QObject* watched, QEvent* event) {
    // Arrows and page keys move through the list while typing continues in the input.
    if (watched == m_input && event->type() == QEvent::KeyPress) {
        const int key = static_cast<QKeyEvent*>(event)->key();
        if (key == Qt::Key_Down || key == Qt::Key_Up || key == Qt::Key_PageDown || key == Qt::Key_PageUp) {
            QCoreApplication::sendEvent(m_list, event);
            return true;
        }
    }
    return QDialog::eventFilter(watched, event);
}

} // namespace Kiln::Ui
