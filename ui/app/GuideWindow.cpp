#include "GuideWindow.h"

#include "app/Icons.h"

#include <QDialogButtonBox>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace Kiln::Ui {

GuideWindow::GuideWindow(QWidget* parent)
    : QDialog(parent)
    , m_text(new QTextBrowser(this)) {
    setObjectName(QStringLiteral("guideWindow"));
    setWindowTitle(tr("Kiln guide"));
    m_text->setObjectName(QStringLiteral("guideText"));
    m_text->setAccessibleName(tr("Kiln guide"));
    m_text->setOpenExternalLinks(true);
    Icons::loadResources();
    // Relative links (the screenshots) resolve inside the bundle, beside the README.
    m_text->setSource(QUrl(QStringLiteral("qrc:/README.md")), QTextDocument::MarkdownResource);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_text);
    layout->addWidget(buttons);
    resize(900, 720);
}

} // namespace Kiln::Ui
