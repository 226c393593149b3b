#include "EmptyState.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace Kiln::Ui {

EmptyState::EmptyState(const QString& title, const QString& text, QWidget* parent)
    : QWidget(parent)
    , m_title(new QLabel(title, this))
    , m_text(new QLabel(text, this))
    , m_buttons(new QHBoxLayout) {
    QFont big = m_title->font();
    big.setPointSizeF(big.pointSizeF() * 1.4);
    big.setBold(true);
    m_title->setFont(big);
    m_title->setAlignment(Qt::AlignCenter);
    m_text->setWordWrap(true);
    m_text->setAlignment(Qt::AlignCenter);
    m_text->setMaximumWidth(560);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_buttons->addStretch();
    m_buttons->addStretch();
    auto* layout = new QVBoxLayout(this);
    layout->addStretch(2);
    layout->addWidget(m_title);
    layout->addSpacing(8);
    // (In a row between stretches rather than aligned: an aligned word-wrapped label is given one line's
    // height.)
    auto* textRow = new QHBoxLayout;
    textRow->addStretch();
    textRow->addWidget(m_text, 4);
    textRow->addStretch();
    layout->addLayout(textRow);
    layout->addSpacing(16);
    layout->addLayout(m_buttons);
    layout->addStretch(3);
}

QPushButton* EmptyState::addButton(const QString& text, const char* objectName) {
    auto* button = new QPushButton(text, this);
    button->setObjectName(QLatin1String(objectName));
    m_buttons->insertWidget(m_buttons->count() - 1, button);
    return button;
}

} // namespace Kiln::Ui
