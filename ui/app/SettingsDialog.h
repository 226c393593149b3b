#pragma once
#include <QDialog>

QT_BEGIN_NAMESPACE
class QCheckBox;
class QComboBox;
class QLineEdit;
class QListWidget;
class QSlider;
QT_END_NAMESPACE

namespace Kiln::Ui {

// The studio's settings, kept per user (QSettings): theme, notifications, the defaults a new run's
// submission dialog starts from (experiment, compute target, environment), chart defaults (for charts not
// set up by hand), and the workspace connections the welcome page lists. Applied on OK.
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
    QComboBox* m_chartX;
    QSlider* m_chartSmoothing;
    QCheckBox* m_chartLogY;
    QListWidget* m_workspaces;
};

} // namespace Kiln::Ui
