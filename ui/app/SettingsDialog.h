#pragma once
#include <QDialog>

QT_BEGIN_NAMESPACE
class QCheckBox;
class QComboBox;
class QLineEdit;
QT_END_NAMESPACE

namespace Kiln::Ui {

// The studio's settings, kept per user (QSettings): theme, notifications, and the defaults a new run's
// submission dialog starts from (experiment, compute target, environment). Applied on OK.
class SettingsDialog final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SettingsDialog)
public:
    explicit SettingsDialog(QWidget* parent = nullptr);
    QComboBox* themeBox() const { return m_theme; }
    QCheckBox* notificationsBox() const { return m_notifications; }

public Q_SLOTS:
    void accept() override;

Q_SIGNALS:
    void applied();

private:
    QComboBox* m_theme;
    QCheckBox* m_notifications;
    QLineEdit* m_experiment;
    QLineEdit* m_compute;
    QLineEdit* m_environment;
};

} // namespace Kiln::Ui
