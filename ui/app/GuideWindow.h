#pragma once
#include <QDialog>

QT_BEGIN_NAMESPACE
class QTextBrowser;
QT_END_NAMESPACE

namespace Kiln::Ui {

// Help > Kiln guide: the README (bundled in the studio, screenshots included), rendered, so the guide is
// there offline and matches the studio it came with. Links to other sites open in the browser.
class GuideWindow final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(GuideWindow)
public:
    explicit GuideWindow(QWidget* parent = nullptr);

    QTextBrowser* text() const { return m_text; }

private:
    QTextBrowser* m_text;
};

} // namespace Kiln::Ui
